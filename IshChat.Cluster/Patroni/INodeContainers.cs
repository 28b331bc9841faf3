namespace IshChat.Cluster.Patroni;

/// <summary>
/// The nodes' containers, for a rolling update that replaces their image (<see cref="RollingRestart"/> with a new node image):
/// the orchestrator creates a container from its image reference, so a node runs a new image only once its container is
/// deleted and created again.
/// </summary>
public interface INodeContainers
{
    /// <summary>Whether the node's container was created from another image than the one its reference names now.</summary>
    Task<bool> RunsReplacedImageAsync(string node, CancellationToken cancellationToken);

    /// <summary>Deletes the node's container and creates it again from its reference (its data volume stays); returns once it runs.</summary>
    Task RecreateAsync(string node, CancellationToken cancellationToken);
}
