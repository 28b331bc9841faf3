namespace IshChat.Cluster.Images;

/// <summary>The images of the cluster, one per folder under <c>containers/</c>.</summary>
public static class ClusterImages
{
    public static ClusterImage Etcd { get; } = new("etcd");
    public static ClusterImage Patroni { get; } = new("patroni");
    public static ClusterImage HAProxy { get; } = new("haproxy");
    public static ClusterImage PgBouncer { get; } = new("pgbouncer");
    public static ClusterImage Redis { get; } = new("redis");

    // Monitoring (Grafana is the official image, not built here: see containers/grafana/README.md).
    public static ClusterImage Prometheus { get; } = new("prometheus");
    public static ClusterImage Alertmanager { get; } = new("alertmanager");
    public static ClusterImage PostgresExporter { get; } = new("postgres-exporter");
    public static ClusterImage PgBouncerExporter { get; } = new("pgbouncer-exporter");
    public static ClusterImage RedisExporter { get; } = new("redis-exporter");
    public static ClusterImage NodeExporter { get; } = new("node-exporter");

    public static IReadOnlyList<ClusterImage> All { get; } =
        [Etcd, Patroni, HAProxy, PgBouncer, Redis, Prometheus, Alertmanager, PostgresExporter, PgBouncerExporter, RedisExporter, NodeExporter];
}
