namespace IshChat.Cluster.Configuration;

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

    /// <summary>
    /// The secret holding the password of <paramref name="role"/>: the one map that the AppHost (to hand out connection
    /// strings), the Testcontainers cluster and the tests use. The REST API user is Patroni's, not PostgreSQL's.
    /// </summary>
    public static ClusterSecret PasswordOf(string role) => role switch
    {
        Superuser => ClusterSecret.SuperuserPassword,
        Replication => ClusterSecret.ReplicationPassword,
        Rewind => ClusterSecret.RewindPassword,
        RestApi => ClusterSecret.RestApiPassword,
        App => ClusterSecret.AppPassword,
        Migrator => ClusterSecret.MigratorPassword,
        Monitor => ClusterSecret.MonitorPassword,
        PgBouncerAuth => ClusterSecret.PgBouncerAuthPassword,
        _ => throw new ArgumentException($"'{role}' is not one of the cluster's roles.", nameof(role)),
    };
}
