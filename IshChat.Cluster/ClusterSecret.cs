namespace IshChat.Cluster;

/// <summary>
/// The cluster's passwords. The AppHost maps each to an Aspire secret parameter (generated
/// when unset); the Testcontainers suite generates them per run. Nothing here holds a value.
/// </summary>
public enum ClusterSecret
{
    SuperuserPassword,
    ReplicationPassword,
    RewindPassword,
    RestApiPassword,
    AppPassword,
    MigratorPassword,
    MonitorPassword,
    PgBouncerAuthPassword,
}

/// <summary>The PostgreSQL roles and the database the cluster is bootstrapped with.</summary>
public static class ClusterRoles
{
    public const string Database = "ishchat";
    public const string Superuser = "postgres";
    public const string Replication = "replicator";
    public const string Rewind = "rewind_user";
    public const string RestApi = "patroni";

    /// <summary>The chat API's role: owns no table and cannot bypass row-level security.</summary>
    public const string App = "ishchat_app";

    /// <summary>Owns the chat schema; used only by the migration step.</summary>
    public const string Migrator = "ishchat_migrator";

    /// <summary>Member of pg_monitor, for exporters and tests that read replication state.</summary>
    public const string Monitor = "ishchat_monitor";

    /// <summary>The one user in PgBouncer's auth file; looks every other user up with auth_query.</summary>
    public const string PgBouncerAuth = "pgbouncer_auth";
}

/// <summary>An environment variable's value: a literal, or a secret each host resolves its own way.</summary>
public readonly record struct EnvironmentValue
{
    private EnvironmentValue(string? literal, ClusterSecret? secret) => (Literal, Secret) = (literal, secret);

    public string? Literal { get; }

    public ClusterSecret? Secret { get; }

    public static implicit operator EnvironmentValue(string literal) => new(literal, null);

    public static implicit operator EnvironmentValue(ClusterSecret secret) => new(null, secret);

    public string Resolve(Func<ClusterSecret, string> secrets) => Literal ?? secrets(Secret!.Value);

    public override string ToString() => Literal ?? $"<{Secret}>";
}
