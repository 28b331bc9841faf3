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

    /// <summary>
    /// The admin API's role (and the legacy import tool's): the instance directory (list and create instances, issue and
    /// revoke keys) on top of everything <see cref="App"/> may do, which it inherits.
    /// </summary>
    public const string Admin = "ishchat_admin";

    /// <summary>
    /// The legacy import's bulk writes (docs/security.md): bypasses row-level security so that binary COPY goes straight
    /// into the chat tables, and for that reason holds nothing but INSERT where an import writes and SELECT on ids.
    /// </summary>
    public const string Importer = "ishchat_importer";

    /// <summary>Owns the chat schema; used only by the migration step.</summary>
    public const string Migrator = "ishchat_migrator";

    /// <summary>Member of pg_monitor, for exporters and tests that read replication state.</summary>
    public const string Monitor = "ishchat_monitor";

    /// <summary>
    /// The one user in PgBouncer's auth file; looks the roles of <see cref="PooledRoles"/> up with auth_query and may do
    /// nothing else (not even PgBouncer's admin console).
    /// </summary>
    public const string PgBouncerAuth = "pgbouncer_auth";

    /// <summary>
    /// PgBouncer's own console user (SHOW POOLS/STATS, for the exporter): not a PostgreSQL role at all, so its password
    /// opens nothing in the database, and the auth user no longer doubles as the console's user.
    /// </summary>
    public const string PgBouncerStats = "pgbouncer_stats";

    /// <summary>
    /// A NOLOGIN group: PgBouncer's auth_query hands out the SCRAM verifier of its members only, so no other role (the
    /// superuser, Patroni's, or one created later) can log in through the pooler.
    /// </summary>
    public const string PooledRoles = "ishchat_pooled";

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
        Admin => ClusterSecret.AdminPassword,
        Importer => ClusterSecret.ImporterPassword,
        Migrator => ClusterSecret.MigratorPassword,
        Monitor => ClusterSecret.MonitorPassword,
        PgBouncerAuth => ClusterSecret.PgBouncerAuthPassword,
        PgBouncerStats => ClusterSecret.PgBouncerStatsPassword,
        _ => throw new ArgumentException($"'{role}' is not one of the cluster's roles.", nameof(role)),
    };
}
