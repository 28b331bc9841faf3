namespace IshChat.AppHost.Hosting.Alertmanager;

/// <summary>Alertmanager: receives Prometheus's alerts, groups them per alert and instance, and notifies operators.</summary>
public sealed class AlertmanagerResource(string name) : ContainerResource(name)
{
    public const string HttpEndpointName = "http";

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);
}
