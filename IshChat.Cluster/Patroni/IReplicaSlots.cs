namespace IshChat.Cluster.Patroni;

/// <summary>
/// What adding and removing replicas needs from whoever runs the containers (the AppHost, the Testcontainers cluster):
/// the node slots the cluster declares, starting and stopping one, and where its REST API and the routers are.
/// </summary>
public interface IReplicaSlots
{
    /// <summary>Every node the cluster declares, in order: the configured ones first (<c>pg-0</c>…<c>pg-3</c>), then the spares.</summary>
    IReadOnlyList<string> Nodes { get; }

    /// <summary>The fewest replicas the cluster keeps: the configured count (<c>WithReplicas(n)</c>).</summary>
    int MinimumReplicas { get; }

    /// <summary>The node's container while one exists (running or stopped), else null (a spare never started).</summary>
    Task<string?> ContainerIdAsync(string node, CancellationToken cancellationToken);

    /// <summary>Starts the node's container; a spare's first start creates it.</summary>
    Task StartAsync(string node, CancellationToken cancellationToken);

    /// <summary>Stops the node's container on purpose, so that self-healing leaves it stopped.</summary>
    Task StopAsync(string node, CancellationToken cancellationToken);

    /// <summary>The node's Patroni REST API, or null while its container has none.</summary>
    Uri? RestUrl(string node);

    /// <summary>The HAProxy containers that route to the cluster.</summary>
    Task<IReadOnlyList<string>> HAProxyContainerIdsAsync(CancellationToken cancellationToken);
}
