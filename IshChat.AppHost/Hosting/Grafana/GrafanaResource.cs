namespace IshChat.AppHost.Hosting.Grafana;

/// <summary>Grafana with a provisioned Prometheus datasource and IshChat's dashboards (containers/grafana/).</summary>
public sealed class GrafanaResource(string name, ParameterResource adminPassword) : ContainerResource(name)
{
    public const string HttpEndpointName = "http";

    /// <summary>The official image, pinned: Grafana is in no Debian suite, so it is the one image not built here.</summary>
    public const string Image = "grafana/grafana";

    public const string Tag = "12.2.1";

    public ParameterResource AdminPassword { get; } = adminPassword;

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);
}
