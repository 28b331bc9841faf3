namespace IshChat.Cluster.Configuration;

/// <summary>The ports each component listens on inside its container.</summary>
public static class ClusterPorts
{
    public const int EtcdClient = 2379;
    public const int EtcdPeer = 2380;

    /// <summary>etcd's /metrics and /health in plain HTTP (they hold no secret): the client port wants a client certificate.</summary>
    public const int EtcdMetrics = 2381;
    public const int Postgres = 5432;
    public const int PatroniRest = 8008;
    public const int HAProxyReadWrite = 5000;
    public const int HAProxyReadOnly = 5001;
    public const int HAProxyStats = 7000;

    /// <summary>HAProxy's runtime API on loopback inside its container (containers/haproxy/haproxy.cfg.tmpl): drain, show stat.</summary>
    public const int HAProxyRuntimeApi = 9999;
    public const int PgBouncer = 6432;
    public const int Redis = 6379;

    // Monitoring.
    public const int Prometheus = 9090;
    public const int Alertmanager = 9093;
    public const int Grafana = 3000;
    public const int PostgresExporter = 9187;
    public const int PgBouncerExporter = 9127;
    public const int RedisExporter = 9121;
    public const int NodeExporter = 9100;
    public const int PgBackRestExporter = 9854;
}
