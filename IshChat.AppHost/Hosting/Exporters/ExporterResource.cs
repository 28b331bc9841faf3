namespace IshChat.AppHost.Hosting.Exporters;

/// <summary>
/// A Prometheus exporter in its own container: translates a server that has no <c>/metrics</c>
/// of its own (PostgreSQL, PgBouncer, Redis, the host's disks) into metrics Prometheus scrapes.
/// </summary>
public sealed class ExporterResource(string name, int metricsPort) : ContainerResource(name)
{
    public const string MetricsEndpointName = "metrics";

    /// <summary>The port the exporter serves on inside the cluster's network.</summary>
    public int MetricsPort { get; } = metricsPort;

    public EndpointReference MetricsEndpoint => field ??= new(this, MetricsEndpointName);

    /// <summary>The exporter's address as Prometheus, on the same network, reaches it.</summary>
    public string ScrapeTarget => MonitoringEnvironment.Target(Name, MetricsPort);
}
