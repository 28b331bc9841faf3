using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Testcontainers;

/// <summary>Reading the cluster's state and injecting the faults a Patroni stack must survive.</summary>
public sealed partial class PatroniTestCluster
{
    /// <summary>Patroni's view, from the first node whose REST API answers.</summary>
    public async Task<PatroniClusterState?> TryReadClusterAsync(CancellationToken cancellationToken = default)
    {
        foreach (var node in Nodes)
        {
            try
            {
                return await Rest.GetClusterAsync(RestUrl(node), cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                // Down, frozen or cut off: ask the next one.
            }
        }

        return null;
    }

    /// <summary>
    /// Waits for one leader with every other node streaming from it and, in synchronous or quorum
    /// mode, enough standbys named synchronous: only those may be promoted, so killing the leader
    /// before Patroni has named one would leave no candidate.
    /// </summary>
    public Task<PatroniClusterState> WaitForHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var synchronousStandbys = Options.Patroni.SynchronousMode == SynchronousMode.Off ? 0 : Options.Patroni.SynchronousNodeCount;
        return WaitForAsync(
            s => s.Leader is not null
                && s.Members.Count(m => m.IsStreamingReplica) == Nodes.Count - 1
                && s.Members.Count(m => m.Role is "sync_standby" or "quorum_standby") >= synchronousStandbys,
            timeout, "a leader, all replicas streaming and the synchronous standbys named", cancellationToken);
    }

    public async Task<PatroniClusterState> WaitForAsync(Func<PatroniClusterState, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        PatroniClusterState? last = null;
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

    /// <summary>SIGKILL of the whole container: a node lost with no warning.</summary>
    public async Task KillAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Fault: kill {Node}", node);
        await DockerCli.KillAsync(node.ContainerId, cancellationToken);
    }

    /// <summary>Graceful stop (SIGTERM): Patroni shuts PostgreSQL down and hands over the leader key.</summary>
    public async Task StopAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Fault: stop {Node}", node);
        await node.Container.StopAsync(cancellationToken);
    }

    /// <summary>Starts a killed or stopped container again (its data directory survives, so it rejoins with pg_rewind).</summary>
    public async Task RestartAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Repair: start {Node} again", node);
        await node.Container.StartAsync(cancellationToken);
        await node.RefreshHostPortsAsync(cancellationToken);
    }

    /// <summary>Freezes every process of the node (SIGSTOP via the cgroup freezer): alive but silent.</summary>
    public async Task PauseAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Fault: pause {Node}", node);
        await node.Container.PauseAsync(cancellationToken);
    }

    public async Task UnpauseAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Repair: unpause {Node}", node);
        await node.Container.UnpauseAsync(cancellationToken);
        await node.RefreshHostPortsAsync(cancellationToken);
    }

    /// <summary>Cuts the node off the cluster's network: it runs on, but reaches no one and no one reaches it.</summary>
    public async Task DisconnectAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Fault: partition {Node}", node);
        await DockerCli.DisconnectAsync(Network.Name, node.ContainerId, cancellationToken);
    }

    public async Task ReconnectAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Repair: reconnect {Node}", node);
        await DockerCli.ConnectAsync(Network.Name, node.ContainerId, [node.Name], cancellationToken);
        await node.RefreshHostPortsAsync(cancellationToken);
    }

    /// <summary>Kills only the postmaster (SIGKILL) inside the node; Patroni itself keeps running.</summary>
    public async Task CrashPostgresAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Fault: crash postgres on {Node}", node);
        var result = await node.Container.ExecAsync(["bash", "-c", "kill -KILL \"$(head -n 1 /var/lib/postgresql/data/postmaster.pid)\""], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not kill postgres on {node}: {result.Stderr}");
        }
    }

    /// <summary>Runs SQL inside a node over its local socket: works even while the node is cut off from the network.</summary>
    public async Task<string> PsqlInsideAsync(TestClusterNode node, string sql, CancellationToken cancellationToken = default)
    {
        var result = await node.Container.ExecAsync(["psql", "-X", "-At", "-d", "postgres", "-c", sql], cancellationToken);
        return result.ExitCode == 0 ? result.Stdout.Trim() : throw new InvalidOperationException($"psql on {node} failed: {result.Stderr.Trim()}");
    }
}
