namespace IshChat.Cluster.Images;

/// <summary>The images of the cluster, one per folder under <c>containers/</c>.</summary>
public static class ClusterImages
{
    /// <summary>
    /// Every Debian package of every image below, installed in one apt transaction: the layer they are all built on.
    /// Not a container of its own, so not in <see cref="All"/>; building any image builds it first.
    /// </summary>
    public static ClusterImage Packages { get; } = new("packages");

    public static ClusterImage Etcd { get; } = new("etcd", Packages) { RunsAs = new("etcd", 101, 102) };
    public static ClusterImage Patroni { get; } = new("patroni", Packages) { RunsAs = new("postgres", 104, 106) };
    public static ClusterImage HAProxy { get; } = new("haproxy", Packages) { RunsAs = new("haproxy", 103, 105) };
    public static ClusterImage PgBouncer { get; } = new("pgbouncer", Packages) { RunsAs = new("pgbouncer", 999, 999) };
    public static ClusterImage Redis { get; } = new("redis", Packages) { RunsAs = new("redis", 102, 104) };

    // Monitoring (Grafana is the official image, not built here: see containers/grafana/README.md).
    public static ClusterImage Prometheus { get; } = new("prometheus", Packages) { RunsAs = new("prometheus", 100, 101) };
    public static ClusterImage Alertmanager { get; } = new("alertmanager", Packages);
    public static ClusterImage PostgresExporter { get; } = new("postgres-exporter", Packages) { RunsAs = new("prometheus", 100, 101) };
    public static ClusterImage PgBouncerExporter { get; } = new("pgbouncer-exporter", Packages) { RunsAs = new("prometheus", 100, 101) };
    public static ClusterImage RedisExporter { get; } = new("redis-exporter", Packages) { RunsAs = new("prometheus", 100, 101) };
    public static ClusterImage NodeExporter { get; } = new("node-exporter", Packages);

    // Backups: the object store holding pgBackRest's repository (docs/backup.md).
    public static ClusterImage BackupStore { get; } = new("backup-store");

    /// <summary>pgbackrest_exporter, built on the Patroni image for its pgBackRest and repository configuration.</summary>
    public static ClusterImage PgBackRestExporter { get; } = new("pgbackrest-exporter", Patroni);

    /// <summary>Every image a container runs from: what the AppHost, the test clusters and the benches build up front.</summary>
    public static IReadOnlyList<ClusterImage> All { get; } =
        [Etcd, Patroni, HAProxy, PgBouncer, Redis, Prometheus, Alertmanager, PostgresExporter, PgBouncerExporter, RedisExporter, NodeExporter, BackupStore, PgBackRestExporter];
}
