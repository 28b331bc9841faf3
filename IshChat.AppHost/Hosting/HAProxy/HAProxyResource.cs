using IshChat.AppHost.Hosting.Patroni;

namespace IshChat.AppHost.Hosting.HAProxy;

/// <summary>
/// The routing tier in front of a Patroni cluster: several identical HAProxy instances, each with a read-write port
/// routed to the leader by Patroni's <c>/primary</c> check and a read-only port routed to replicas by <c>/replica</c>.
/// Clients (PgBouncer, the migration step) list them all, so losing one costs no request.
/// </summary>
public sealed class HAProxyResource(string name, PatroniClusterResource cluster) : Resource(name)
{
    private readonly List<HAProxyInstanceResource> instances = [];

    public PatroniClusterResource Cluster { get; } = cluster;

    public IReadOnlyList<HAProxyInstanceResource> Instances => instances;

    internal void AddInstance(HAProxyInstanceResource instance) => instances.Add(instance);
}
