using System.Diagnostics;
using IshChat.Cluster.Faults;

namespace IshChat.Cluster.Testcontainers;

/// <summary>Reading the cluster's state and injecting the faults (<see cref="Fault"/>) a Patroni stack must survive.</summary>
public sealed partial class PatroniTestCluster
{
    /// <summary>Patroni's view, from the first node whose REST API answers; null when none does.</summary>
    public async Task<ClusterState?> TryReadClusterAsync(CancellationToken cancellationToken = default) =>
        (await Rest.TryGetClusterFromAnyAsync(Nodes.Select(n => (n.Name, (Uri?)RestUrl(n))), cancellationToken)).State;

    /// <summary>Waits until the cluster is healthy by <see cref="ClusterState.Evaluate"/>: ready for the next fault.</summary>
    public Task<ClusterState> WaitForHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForAsync(s => s.Evaluate(Nodes.Count, Options.Patroni).IsHealthy, timeout, "a healthy cluster (leader, replicas streaming, synchronous standbys named)", cancellationToken);

    public async Task<ClusterState> WaitForAsync(Func<ClusterState, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        ClusterState? last = null;
        while (stopwatch.Elapsed < timeout)
        {
            last = await TryReadClusterAsync(cancellationToken);
            if (last is not null && condition(last))
            {
                return last;
            }

            await Task.Delay(250, cancellationToken);
        }

        var members = last is null ? "no node answered" : string.Join(", ", last.Members.Select(m => $"{m.Name} {m.Role} {m.State}"));
        throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what}; last seen: {members}");
    }

    public async Task<TestClusterNode> LeaderAsync(CancellationToken cancellationToken = default)
    {
        var state = await WaitForAsync(s => s.Leader is not null, TimeSpan.FromSeconds(60), "a leader", cancellationToken);
        return Node(state.Leader!.Name);
    }

    /// <summary>Does <paramref name="fault"/> to <paramref name="node"/> (see <see cref="Fault"/>).</summary>
    public Task InjectAsync(Fault fault, TestClusterNode node, CancellationToken cancellationToken = default) =>
        FaultInjector.InjectAsync(fault, FaultTarget(node), logger, cancellationToken);

    /// <summary>Undoes <paramref name="fault"/>; a restarted container gets new host ports, read here again.</summary>
    public async Task RepairAsync(Fault fault, TestClusterNode node, CancellationToken cancellationToken = default)
    {
        await FaultInjector.RepairAsync(fault, FaultTarget(node), logger, cancellationToken);
        await node.RefreshHostPortsAsync(cancellationToken);
    }

    private FaultTarget FaultTarget(TestClusterNode node) => new(node.Name, node.ContainerId, Network.Name, [node.Name]);

    /// <summary>Runs SQL inside a node over its local socket: works even while the node is cut off from the network.</summary>
    public async Task<string> PsqlInsideAsync(TestClusterNode node, string sql, CancellationToken cancellationToken = default)
    {
        var result = await node.Container.ExecAsync(["psql", "-X", "-At", "-d", "postgres", "-c", sql], cancellationToken);
        return result.ExitCode == 0 ? result.Stdout.Trim() : throw new InvalidOperationException($"psql on {node} failed: {result.Stderr.Trim()}");
    }
}
