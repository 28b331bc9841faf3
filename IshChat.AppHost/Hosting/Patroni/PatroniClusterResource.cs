using System.Collections.Concurrent;
using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Etcd;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// A Patroni-managed PostgreSQL cluster: one leader and its streaming replicas, electing the
/// leader in an etcd cluster. The cluster owns the credentials every node is bootstrapped with.
/// </summary>
public sealed class PatroniClusterResource(
    string name, EtcdClusterResource etcd, IReadOnlyDictionary<ClusterSecret, ParameterResource> secrets, CertificateAuthorityResource certificateAuthority)
    : Resource(name)
{
    private readonly List<PatroniNodeResource> nodes = [];
    private readonly List<ContainerResource> routers = [];
    private readonly ConcurrentDictionary<string, bool> sparesUp = new(StringComparer.Ordinal);

    public EtcdClusterResource Etcd { get; } = etcd;

    /// <summary>Signs every node's certificate, and the routing and pooling tiers' in front of them.</summary>
    public CertificateAuthorityResource CertificateAuthority { get; } = certificateAuthority;

    /// <summary>Every node slot: the leader and configured replicas first, then the spares.</summary>
    public IReadOnlyList<PatroniNodeResource> Nodes => nodes;

    /// <summary>The replicas the cluster always runs (<c>WithReplicas(n)</c>): the fewest "Remove replica" leaves.</summary>
    public int ConfiguredReplicas => nodes.Count(n => !n.IsSpare) - 1;

    /// <summary>
    /// The nodes that should be running now: the configured ones and the spares whose container is up. What "healthy"
    /// counts, so a spare never started is a normal state, and one added is expected to stream.
    /// </summary>
    public IReadOnlyList<PatroniNodeResource> ServingNodes => [.. nodes.Where(n => !n.IsSpare || sparesUp.GetValueOrDefault(n.Name))];

    /// <summary>The routers (HAProxy containers) in front of the cluster: a replica is drained there before it is removed.</summary>
    public IReadOnlyList<ContainerResource> Routers => routers;

    /// <summary>Patroni's scope: the cluster's key prefix in etcd.</summary>
    public string Scope => $"ishchat-{Name}";

    public PatroniSettings Settings { get; internal set; } = new();

    /// <summary>The leader, replicas, lag and timeline last read from Patroni's REST API.</summary>
    public ClusterState? LastObservedState { get; internal set; }

    public ParameterResource Secret(ClusterSecret secret) => secrets[secret];

    public IReadOnlyDictionary<ClusterSecret, ParameterResource> Secrets => secrets;

    internal void AddNode(PatroniNodeResource node) => nodes.Add(node);

    internal void AddRouter(ContainerResource router) => routers.Add(router);

    internal void SetSpareUp(PatroniNodeResource spare, bool up) => sparesUp[spare.Name] = up;
}
