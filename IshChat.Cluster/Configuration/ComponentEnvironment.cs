using System.Globalization;

namespace IshChat.Cluster.Configuration;

/// <summary>
/// The environment each image under <c>containers/</c> reads at start (each documented in containers/&lt;name&gt;/README.md).
/// Host names are the containers' DNS names on the cluster's network.
/// </summary>
public static class ComponentEnvironment
{
    public static IReadOnlyDictionary<string, EnvironmentValue> EtcdMember(string memberName, IReadOnlyList<string> members, string clusterToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(memberName);
        if (!members.Contains(memberName))
        {
            throw new ArgumentException($"'{memberName}' is not one of the members {string.Join(", ", members)}.", nameof(memberName));
        }

        return new Dictionary<string, EnvironmentValue>
        {
            ["ETCD_NAME"] = memberName,
            ["ISHCHAT_ETCD_MEMBERS"] = string.Join(',', members),
            ["ISHCHAT_ETCD_CLUSTER_TOKEN"] = clusterToken,
        };
    }

    public static string EtcdHosts(IEnumerable<string> etcdMembers) =>
        string.Join(',', etcdMembers.Select(m => $"{m}:{ClusterPorts.EtcdClient}"));

    public static IReadOnlyDictionary<string, EnvironmentValue> PatroniNode(
        string nodeName, string scope, IReadOnlyList<string> etcdMembers, PatroniSettings settings, Regions.StandbyClusterSettings? standbyOf = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        settings.Validate();
        static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

        return new Dictionary<string, EnvironmentValue>
        {
            ["PATRONI_NAME"] = nodeName,
            ["PATRONI_SCOPE"] = scope,
            ["PATRONI_ETCD3_HOSTS"] = EtcdHosts(etcdMembers),
            // etcd's user for Patroni, limited to its namespace (Etcd.EtcdAuthentication); Patroni reads both from here.
            ["PATRONI_ETCD3_USERNAME"] = Etcd.EtcdAuthentication.PatroniUser,
            ["PATRONI_ETCD3_PASSWORD"] = ClusterSecret.EtcdPatroniPassword,
            ["PATRONI_SUPERUSER_USERNAME"] = ClusterRoles.Superuser,
            ["PATRONI_SUPERUSER_PASSWORD"] = ClusterSecret.SuperuserPassword,
            ["PATRONI_REPLICATION_USERNAME"] = ClusterRoles.Replication,
            ["PATRONI_REPLICATION_PASSWORD"] = ClusterSecret.ReplicationPassword,
            ["PATRONI_REWIND_USERNAME"] = ClusterRoles.Rewind,
            ["PATRONI_REWIND_PASSWORD"] = ClusterSecret.RewindPassword,
            ["PATRONI_RESTAPI_USERNAME"] = ClusterRoles.RestApi,
            ["PATRONI_RESTAPI_PASSWORD"] = ClusterSecret.RestApiPassword,
            ["ISHCHAT_PATRONI_TTL"] = Number(settings.TtlSeconds),
            ["ISHCHAT_PATRONI_LOOP_WAIT"] = Number(settings.LoopWaitSeconds),
            ["ISHCHAT_PATRONI_RETRY_TIMEOUT"] = Number(settings.RetryTimeoutSeconds),
            ["ISHCHAT_PATRONI_PRIMARY_START_TIMEOUT"] = Number(settings.PrimaryStartTimeoutSeconds),
            ["ISHCHAT_PATRONI_MAXIMUM_LAG_ON_FAILOVER"] = Number(settings.MaximumLagOnFailoverBytes),
            ["ISHCHAT_PATRONI_SYNCHRONOUS_MODE"] = settings.SynchronousMode.ToString().ToLowerInvariant(),
            ["ISHCHAT_PATRONI_SYNCHRONOUS_NODE_COUNT"] = Number(settings.SynchronousNodeCount),
            ["ISHCHAT_PATRONI_FAILSAFE_MODE"] = settings.FailsafeMode ? "true" : "false",
        }.Concat(ApplicationRoles()).Concat(standbyOf?.Environment() ?? new Dictionary<string, EnvironmentValue>()).ToDictionary();
    }

    /// <summary>
    /// The patroni image in its single-server mode (the official postgres image's contract): one plain PostgreSQL, no
    /// Patroni. The caller passes POSTGRES_USER/POSTGRES_PASSWORD its own way (Testcontainers' and Aspire's builders do);
    /// these create the same database and roles as a cluster's first leader, so the API and the migrations run unchanged.
    /// </summary>
    public static IReadOnlyDictionary<string, EnvironmentValue> SinglePostgres() => ApplicationRoles();

    /// <summary>The database and roles the image's post-bootstrap hook creates (containers/patroni/post-bootstrap.sql).</summary>
    private static Dictionary<string, EnvironmentValue> ApplicationRoles() => new()
    {
        ["ISHCHAT_DATABASE"] = ClusterRoles.Database,
        ["ISHCHAT_APP_USER"] = ClusterRoles.App,
        // The application roles' passwords only as verifiers: the server creates these roles, it never logs in as them.
        ["ISHCHAT_APP_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.AppPassword),
        ["ISHCHAT_ADMIN_USER"] = ClusterRoles.Admin,
        ["ISHCHAT_ADMIN_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.AdminPassword),
        ["ISHCHAT_IMPORTER_USER"] = ClusterRoles.Importer,
        ["ISHCHAT_IMPORTER_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.ImporterPassword),
        ["ISHCHAT_MIGRATOR_USER"] = ClusterRoles.Migrator,
        ["ISHCHAT_MIGRATOR_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.MigratorPassword),
        ["ISHCHAT_MONITOR_USER"] = ClusterRoles.Monitor,
        ["ISHCHAT_MONITOR_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.MonitorPassword),
        ["ISHCHAT_PGBOUNCER_AUTH_USER"] = ClusterRoles.PgBouncerAuth,
        ["ISHCHAT_PGBOUNCER_AUTH_PASSWORD"] = EnvironmentValue.VerifierOf(ClusterSecret.PgBouncerAuthPassword),
    };

    public static IReadOnlyDictionary<string, EnvironmentValue> HAProxy(IReadOnlyList<string> patroniNodes)
    {
        if (patroniNodes.Count == 0)
        {
            throw new ArgumentException("HAProxy needs at least one Patroni node.", nameof(patroniNodes));
        }

        return new Dictionary<string, EnvironmentValue>
        {
            ["ISHCHAT_PATRONI_NODES"] = string.Join(',', patroniNodes),
            ["ISHCHAT_PATRONI_PG_PORT"] = ClusterPorts.Postgres.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_PATRONI_REST_PORT"] = ClusterPorts.PatroniRest.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// A PgBouncer reaching the cluster through every one of <paramref name="upstreamHosts"/> (the HAProxy instances):
    /// PgBouncer spreads new server connections over them and skips one that refuses.
    /// </summary>
    public static IReadOnlyDictionary<string, EnvironmentValue> PgBouncer(IReadOnlyList<string> upstreamHosts, PgBouncerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (upstreamHosts is not { Count: > 0 } || upstreamHosts.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("PgBouncer needs at least one HAProxy host.", nameof(upstreamHosts));
        }

        return new Dictionary<string, EnvironmentValue>
        {
            ["ISHCHAT_PGBOUNCER_UPSTREAM_HOST"] = Tls.ServerNames.PgBouncerUpstream(upstreamHosts),
            ["ISHCHAT_PGBOUNCER_RW_PORT"] = ClusterPorts.HAProxyReadWrite.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_PGBOUNCER_RO_PORT"] = ClusterPorts.HAProxyReadOnly.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_DATABASE"] = PgBouncerDatabases.ReadWrite,
            ["ISHCHAT_PGBOUNCER_RO_DATABASE"] = PgBouncerDatabases.ReadOnly,
            ["ISHCHAT_PGBOUNCER_AUTH_USER"] = ClusterRoles.PgBouncerAuth,
            ["ISHCHAT_PGBOUNCER_AUTH_PASSWORD"] = ClusterSecret.PgBouncerAuthPassword,
            ["ISHCHAT_PGBOUNCER_STATS_USER"] = ClusterRoles.PgBouncerStats,
            ["ISHCHAT_PGBOUNCER_STATS_PASSWORD"] = ClusterSecret.PgBouncerStatsPassword,
            ["ISHCHAT_PGBOUNCER_DEFAULT_POOL_SIZE"] = settings.DefaultPoolSize.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS"] = settings.MaxDbConnections.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_PGBOUNCER_MAX_CLIENT_CONN"] = settings.MaxClientConnections.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_PGBOUNCER_INSTANCE_POOLS"] = string.Join(',', settings.InstancePools.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}:{p.Value}"))),
        };
    }
}
