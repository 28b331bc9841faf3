using System.Globalization;

namespace IshChat.Cluster.Configuration;

/// <summary>
/// The environment the monitoring images read at start (each documented in containers/&lt;name&gt;/README.md), beside
/// <see cref="ComponentEnvironment"/>. Scrape targets are <c>host:port</c> on the cluster's network.
/// </summary>
public static class MonitoringEnvironment
{
    /// <summary>Prometheus's scrape jobs whose names the alert rules and dashboards select on.</summary>
    public static class Jobs
    {
        public const string Api = "api";
        public const string Patroni = "patroni";
        public const string Postgres = "postgres";
        public const string Etcd = "etcd";
        public const string HAProxy = "haproxy";
        public const string PgBouncer = "pgbouncer";
        public const string Redis = "redis";
        public const string Node = "node";
        public const string PgBackRest = "pgbackrest";
        public const string Prometheus = "prometheus";
        public const string Alertmanager = "alertmanager";

        /// <summary>The variable of the Prometheus image that lists a static job's targets.</summary>
        public static string Variable(string job) => job switch
        {
            Patroni => "ISHCHAT_SCRAPE_PATRONI",
            Postgres => "ISHCHAT_SCRAPE_POSTGRES",
            Etcd => "ISHCHAT_SCRAPE_ETCD",
            HAProxy => "ISHCHAT_SCRAPE_HAPROXY",
            PgBouncer => "ISHCHAT_SCRAPE_PGBOUNCER_EXPORTER",
            Redis => "ISHCHAT_SCRAPE_REDIS_EXPORTER",
            Node => "ISHCHAT_SCRAPE_NODE_EXPORTER",
            PgBackRest => "ISHCHAT_SCRAPE_PGBACKREST_EXPORTER",
            Prometheus => "ISHCHAT_SCRAPE_PROMETHEUS",
            Alertmanager => "ISHCHAT_SCRAPE_ALERTMANAGER",
            _ => throw new ArgumentOutOfRangeException(nameof(job), job, "Not a static scrape job of the Prometheus image."),
        };
    }

    /// <summary>Where the Prometheus image reads file-based targets (the API replicas' JSON).</summary>
    public const string PrometheusFileTargetsDirectory = "/etc/prometheus/file_sd";

    /// <summary>Where the node-exporter image's textfile collector reads <c>*.prom</c> files (the restore drills' results).</summary>
    public const string NodeExporterTextfileDirectory = "/var/lib/ishchat/textfile";

    public static string Target(string host, int port) => $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";

    public static IReadOnlyDictionary<string, EnvironmentValue> Prometheus(
        IReadOnlyDictionary<string, IReadOnlyList<string>> staticJobs, string? postgresExporter, string? alertmanager, TimeSpan scrapeInterval)
    {
        if (scrapeInterval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(scrapeInterval), scrapeInterval, "Scrape at most once a second.");
        }

        var environment = new Dictionary<string, EnvironmentValue>
        {
            ["ISHCHAT_PROMETHEUS_SCRAPE_INTERVAL"] = $"{(int)scrapeInterval.TotalSeconds}s",
        };
        foreach (var (job, targets) in staticJobs.Where(j => j.Value.Count > 0))
        {
            environment[Jobs.Variable(job)] = string.Join(',', targets);
        }

        if (staticJobs.ContainsKey(Jobs.Postgres))
        {
            environment["ISHCHAT_POSTGRES_EXPORTER"] = postgresExporter
                ?? throw new ArgumentException("Probing PostgreSQL nodes needs the postgres_exporter's address.", nameof(postgresExporter));
        }

        if (alertmanager is not null)
        {
            environment["ISHCHAT_PROMETHEUS_ALERTMANAGER"] = alertmanager;
        }

        return environment;
    }

    public static IReadOnlyDictionary<string, EnvironmentValue> Alertmanager(TimeSpan groupWait) => new Dictionary<string, EnvironmentValue>
    {
        ["ISHCHAT_ALERTMANAGER_GROUP_WAIT"] = $"{(int)groupWait.TotalSeconds}s",
    };

    /// <summary>
    /// postgres_exporter probes every node as the monitoring role (a member of pg_monitor), in the application
    /// database: its custom queries read the chat tables' statistics and pg_cron's jobs there.
    /// </summary>
    public static IReadOnlyDictionary<string, EnvironmentValue> PostgresExporter() => new Dictionary<string, EnvironmentValue>
    {
        ["ISHCHAT_MONITOR_USER"] = ClusterRoles.Monitor,
        ["ISHCHAT_MONITOR_PASSWORD"] = ClusterSecret.MonitorPassword,
        ["ISHCHAT_POSTGRES_EXPORTER_DATABASE"] = ClusterRoles.Database,
    };

    /// <summary>pgbouncer_exporter reads PgBouncer's console as its stats-only user (not a PostgreSQL role).</summary>
    public static IReadOnlyDictionary<string, EnvironmentValue> PgBouncerExporter(string pgbouncerHost) => new Dictionary<string, EnvironmentValue>
    {
        ["ISHCHAT_PGBOUNCER_HOST"] = pgbouncerHost,
        ["ISHCHAT_PGBOUNCER_PORT"] = ClusterPorts.PgBouncer.ToString(CultureInfo.InvariantCulture),
        ["ISHCHAT_PGBOUNCER_STATS_USER"] = ClusterRoles.PgBouncerStats,
        ["ISHCHAT_PGBOUNCER_STATS_PASSWORD"] = ClusterSecret.PgBouncerStatsPassword,
    };
}
