namespace IshChat.Cluster.Configuration;

/// <summary>PgBouncer's pool sizes. Pools are per (database entry, user): rw, ro and each role get their own.</summary>
public sealed record PgBouncerSettings
{
    /// <summary>Server connections per pool; transaction pooling needs few.</summary>
    public int DefaultPoolSize { get; init; } = 20;

    /// <summary>The design's "100 max connections per pool": a cap per database entry across its users.</summary>
    public int MaxDbConnections { get; init; } = 100;

    public int MaxClientConnections { get; init; } = 1000;
}
