using IshChat.AppHost.Hosting.Patroni;

namespace IshChat.AppHost.Hosting.HAProxy;

/// <summary>
/// HAProxy in front of a Patroni cluster: a read-write port routed to the leader by Patroni's
/// <c>/primary</c> check and a read-only port routed to replicas by <c>/replica</c>.
/// </summary>
public sealed class HAProxyResource(string name, PatroniClusterResource cluster) : ContainerResource(name)
{
    public const string ReadWriteEndpointName = "readwrite";
    public const string ReadOnlyEndpointName = "readonly";
    public const string StatsEndpointName = "stats";

    public PatroniClusterResource Cluster { get; } = cluster;

    public EndpointReference ReadWriteEndpoint => field ??= new(this, ReadWriteEndpointName);

    public EndpointReference ReadOnlyEndpoint => field ??= new(this, ReadOnlyEndpointName);

    public EndpointReference StatsEndpoint => field ??= new(this, StatsEndpointName);
}
