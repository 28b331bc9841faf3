namespace IshChat.ServiceDefaults;

/// <summary>
/// The names of the AppHost's resources and of the connections it hands to the services: defined once, used by
/// the AppHost on one side of each reference and by the API, the migration service, the benchmarks and the tests
/// on the other, so a rename that misses a side fails the build instead of a connection at run time.
/// </summary>
public static class ResourceNames
{
    // Connections (ConnectionStrings:<name> in the services' configuration).

    /// <summary>Read-write chat database: PgBouncer's pool to the leader, as the app role.</summary>
    public const string ChatDatabase = "chatdb";

    /// <summary>Read-only chat database: PgBouncer's pool to a streaming replica, as the app role.</summary>
    public const string ChatDatabaseReadOnly = "chatdb-readonly";

    /// <summary>Read-write chat database as the admin API's role (the instance directory): PgBouncer's pool to the leader.</summary>
    public const string ChatDatabaseAdmin = "chatdb-admin";

    /// <summary>The chat database as the schema's owner, straight through HAProxy (a real session, no pooler).</summary>
    public const string ChatDatabaseMigrator = "chatdb-migrator";

    /// <summary>
    /// The chat database through the pool of one instance type (<see cref="InstanceTypes"/>): <c>chatdb-trial</c>,
    /// <c>chatdb-readonly-enterprise</c>… The API uses it for that type's instances when configured, else the shared one.
    /// </summary>
    public static string ChatDatabaseFor(string instanceType, bool readOnly) => $"{(readOnly ? ChatDatabaseReadOnly : ChatDatabase)}-{instanceType}";

    /// <summary>The cache.</summary>
    public const string Redis = "redis";

    // Components.
    public const string Etcd = "etcd";
    public const string Postgres = "pg";
    public const string HAProxy = "haproxy";
    public const string PgBouncer = "pgbouncer";
    public const string Prometheus = "prometheus";
    public const string Alertmanager = "alertmanager";
    public const string Grafana = "grafana";
    public const string BackupStore = "backup-store";

    /// <summary>The secret parameter holding the cluster's certificate authority (docs/security.md, TLS).</summary>
    public const string CertificateAuthority = "cluster-ca";

    // Services.
    public const string Api = "api";
    public const string Migrations = "migrations";

    /// <summary>The SQLite migration tool, present only when a legacy file is configured (docs/migration.md).</summary>
    public const string LegacyImport = "legacy-import";

    /// <summary>The secret parameter holding the chat API's admin key.</summary>
    public const string ApiAdminKey = "api-admin-key";

    /// <summary>
    /// The name (and DNS name) of member <paramref name="index"/> of a group of containers: <c>etcd-0</c>, <c>pg-2</c>,
    /// <c>haproxy-1</c>, <c>pgbouncer-0</c>.
    /// </summary>
    public static string Instance(string group, int index) => $"{group}-{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
