using System.Diagnostics;
using System.Globalization;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// Stops a whole Patroni cluster without a failover on the way out: every replica first, then the leader.
/// </summary>
/// <remarks>
/// The orchestrator stops containers one after another over several seconds, in no order of ours. When the leader
/// went first, a replica still running found the leader key gone and promoted itself (a new timeline) moments before
/// it was stopped too; the next start then began with a stale leader key, a node to rewind and, in one CI run, a
/// replica that never streamed again. Stopped replicas-first, nobody is left to promote, the leader writes the last
/// WAL and holds the most of it, and it deletes its key as a graceful Patroni leader does.
/// </remarks>
public static class OrderedShutdown
{
    /// <summary>Patroni stops PostgreSQL with a fast shutdown; generous for a loaded machine, then the runtime kills.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stops <paramref name="nodes"/> (node name → container id) replicas first, then <paramref name="leader"/>; with no
    /// leader known (etcd gone, no leader elected) all at once, as before.
    /// </summary>
    public static async Task StopAsync(
        IReadOnlyDictionary<string, string> nodes, string? leader, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var stopwatch = Stopwatch.StartNew();
        if (leader is null || !nodes.ContainsKey(leader))
        {
            logger.LogInformation("No leader known; stopping every Patroni node at once");
            await StopEachAsync(nodes.Values, cancellationToken);
            return;
        }

        var replicas = nodes.Where(n => n.Key != leader).ToList();
        logger.LogInformation(
            "Stopping the cluster without a failover: replicas {Replicas} first, then the leader {Leader}",
            string.Join(", ", replicas.Select(r => r.Key)), leader);
        await StopEachAsync(replicas.Select(r => r.Value), cancellationToken);
        var replicasStopped = stopwatch.Elapsed;
        await StopEachAsync([nodes[leader]], cancellationToken);
        logger.LogInformation(
            "Cluster stopped in {Seconds} s (replicas {ReplicaSeconds} s, then the leader {Leader})",
            stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            replicasStopped.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture), leader);
    }

    private static async Task StopEachAsync(IEnumerable<string> containerIds, CancellationToken cancellationToken) =>
        await Task.WhenAll(containerIds.Select(id => DockerCli.ExecuteAsync(
            ["stop", "--time", ((int)StopGrace.TotalSeconds).ToString(CultureInfo.InvariantCulture), id],
            timeout: StopGrace + TimeSpan.FromSeconds(30), cancellationToken: cancellationToken)));
}
