using IshChat.AppHost.Hosting.Etcd;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// A Patroni-managed PostgreSQL cluster: one leader and its streaming replicas, electing the
/// leader in an etcd cluster. The cluster owns the credentials every node is bootstrapped with.
/// </summary>
public sealed class PatroniClusterResource(string name, EtcdClusterResource etcd, IReadOnlyDictionary<ClusterSecret, ParameterResource> secrets)
    : Resource(name)
{
    private readonly List<PatroniNodeResource> nodes = [];

    public EtcdClusterResource Etcd { get; } = etcd;

    public IReadOnlyList<PatroniNodeResource> Nodes => nodes;

    /// <summary>Patroni's scope: the cluster's key prefix in etcd.</summary>
    public string Scope => $"ishchat-{Name}";

    public PatroniSettings Settings { get; internal set; } = new();

    /// <summary>The leader, replicas, lag and timeline last read from Patroni's REST API.</summary>
    public ClusterState? LastObservedState { get; internal set; }

    public ParameterResource Secret(ClusterSecret secret) => secrets[secret];

    public IReadOnlyDictionary<ClusterSecret, ParameterResource> Secrets => secrets;

    internal void AddNode(PatroniNodeResource node) => nodes.Add(node);
}
