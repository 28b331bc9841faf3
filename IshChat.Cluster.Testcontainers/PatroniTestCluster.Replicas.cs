using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Testcontainers;

/// <summary>Replicas added and removed while the cluster serves (<see cref="ReplicaMembership"/>), as in the AppHost.</summary>
public sealed partial class PatroniTestCluster
{
    /// <summary>Every node slot: the leader and replicas first, then <see cref="TestClusterOptions.SpareReplicas"/> spares (<c>pg-4</c>…).</summary>
    public IReadOnlyList<string> NodeSlots => field ??=
        [.. Enumerable.Range(0, Options.Replicas + 1 + Options.SpareReplicas).Select(i => NameOf(ResourceNames.Instance(ResourceNames.Postgres, i)))];

    /// <summary>Adds a replica in the next spare slot, or removes the highest one: the procedure behind the dashboard's commands.</summary>
    public ReplicaMembership Replicas => new(Rest, new Slots(this), Options.Patroni, logger);

    /// <summary>
    /// The slots as <see cref="ReplicaMembership"/> sees them. A spare that starts is a new container on the cluster's network
    /// (so it clones afresh); one that stops is removed with its data, as nothing would ever start that container again.
    /// </summary>
    private sealed class Slots(PatroniTestCluster cluster) : IReplicaSlots
    {
        public IReadOnlyList<string> Nodes => cluster.NodeSlots;

        public int MinimumReplicas => cluster.Options.Replicas;

        public Task<string?> ContainerIdAsync(string node, CancellationToken cancellationToken) =>
            Task.FromResult(cluster.Nodes.FirstOrDefault(n => n.Name == node)?.ContainerId);

        public async Task StartAsync(string node, CancellationToken cancellationToken)
        {
            var started = await cluster.StartNodeAsync(node, [.. cluster.Nodes.Select(n => n.Name), node], cancellationToken);
            cluster.Nodes = [.. cluster.Nodes, started];
        }

        public async Task StopAsync(string node, CancellationToken cancellationToken)
        {
            var stopping = cluster.Node(node);
            // Out of the list first: the supervisor and the fencer then see nothing of theirs die.
            cluster.Nodes = [.. cluster.Nodes.Where(n => n != stopping)];
            await DockerCli.RunAsync(["stop", "--time", "30", stopping.ContainerId], cancellationToken);
            lock (cluster.containers)
            {
                cluster.containers.Remove(stopping.Container);
            }

            await stopping.Container.DisposeAsync();
            cluster.logger.LogInformation("Removed {Node}", node);
        }

        public Uri? RestUrl(string node) => cluster.Nodes.FirstOrDefault(n => n.Name == node) is { } running ? cluster.RestUrl(running) : null;

        public Task<IReadOnlyList<string>> HAProxyContainerIdsAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>([cluster.HAProxy.ContainerId]);
    }
}
