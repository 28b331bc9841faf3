namespace IshChat.AppHost.Hosting.HAProxy;

/// <summary>One HAProxy container of the routing tier; its resource name is its DNS name.</summary>
public sealed class HAProxyInstanceResource(string name, HAProxyResource tier) : ContainerResource(name)
{
    public const string ReadWriteEndpointName = "readwrite";
    public const string ReadOnlyEndpointName = "readonly";
    public const string StatsEndpointName = "stats";

    public HAProxyResource Tier { get; } = tier;

    public EndpointReference ReadWriteEndpoint => field ??= new(this, ReadWriteEndpointName);

    public EndpointReference ReadOnlyEndpoint => field ??= new(this, ReadOnlyEndpointName);

    public EndpointReference StatsEndpoint => field ??= new(this, StatsEndpointName);
}
