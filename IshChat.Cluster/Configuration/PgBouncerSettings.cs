using IshChat.ServiceDefaults;

namespace IshChat.Cluster.Configuration;

/// <summary>PgBouncer's pool sizes. Pools are per (database entry, user): rw, ro and each role get their own.</summary>
public sealed record PgBouncerSettings
{
    /// <summary>Server connections per pool; transaction pooling needs few.</summary>
    public int DefaultPoolSize { get; init; } = 20;

    /// <summary>The design's "100 max connections per pool": a cap per database entry across its users.</summary>
    public int MaxDbConnections { get; init; } = 100;

    /// <summary>
    /// Client connections each PgBouncer accepts. 1,000 direct clients (bench/clients.sh, issue 15) plus every API
    /// replica's Npgsql pools (up to 100 connections per data source, idle ones kept for minutes), the exporter and a
    /// console or two: that run peaked at 1,122 client connections, past the old 1000. A client connection costs
    /// PgBouncer a few kB and a file descriptor (containers get 20000), never a server connection: those stay capped.
    /// </summary>
    public int MaxClientConnections { get; init; } = 2000;

    /// <summary>
    /// Server connections of each instance type's own pool, per PgBouncer and per direction (read-write to the leader,
    /// read-only to a replica). Sized for max_connections 200: 4 + 10 + 16 = 30 per direction and PgBouncer, so the
    /// AppHost's two PgBouncers hold at most 60 on the leader, and 120 if every read fell back to it (no replica left),
    /// leaving room for the shared entries, the migrator, monitoring, Patroni and replication. Transaction pooling on
    /// 2 cores keeps far fewer busy. A flood of trial instances queues behind its own 4 instead of enterprise's 16.
    /// </summary>
    public IReadOnlyDictionary<string, int> InstancePools { get; init; } = new Dictionary<string, int>
    {
        [InstanceTypes.Trial] = 4,
        [InstanceTypes.Standard] = 10,
        [InstanceTypes.Enterprise] = 16,
    };
}
