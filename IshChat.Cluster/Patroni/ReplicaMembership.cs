using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using IshChat.Cluster.Docker;
using IshChat.Cluster.HAProxy;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// Adds and removes replicas of a running cluster with no failed request. Add: the next spare node slot starts and clones
/// from a running replica (<c>tags.clonefrom</c>, never the primary while a replica runs), progress in the log, until it
/// streams within <c>maximum_lag_on_failover</c> and every HAProxy routes reads to it. Remove: the highest running node is
/// drained in every HAProxy (no new sessions; idle ones closed so PgBouncer opens its next elsewhere), stopped, gone from
/// Patroni, and its replication slot dropped everywhere. Refuses to remove the leader or to go below the configured
/// replicas. The dashboard commands, the failover tests and <c>bench/replicas.sh</c> share this one procedure.
/// </summary>
public sealed partial class ReplicaMembership(PatroniRestClient rest, IReplicaSlots slots, PatroniSettings settings, ILogger logger)
{
    /// <summary>How long a clone may take until the new member streams (about a minute per GB on 2 busy cores).</summary>
    public TimeSpan CloneTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A member that runs on old data (a slot removed earlier, its volume kept) but is not streaming after this long needs
    /// WAL nobody keeps any more: it is re-cloned.
    /// </summary>
    public TimeSpan CatchUpTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a drained node's sessions get to finish before it stops anyway.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every step but the clone: routing, leaving Patroni, the slot's removal.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan progressInterval = TimeSpan.FromSeconds(5);

    /// <summary>Starts the next spare node slot and waits until it streams and takes reads.</summary>
    public async Task<ReplicaChangeReport> AddAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var state = await ReadAsync(cancellationToken);
        if (state.Leader is null)
        {
            throw new ReplicaChangeRefusedException("The cluster has no leader right now: a new replica would have nothing to follow.");
        }

        var running = await RunningNodesAsync(cancellationToken);
        // Spares only: a configured node that is down is self-healing's to start, not a new replica.
        var node = slots.Nodes.Skip(slots.MinimumReplicas + 1).FirstOrDefault(n => !running.Contains(n))
            ?? throw new ReplicaChangeRefusedException(
                $"Every spare node slot runs already ({string.Join(", ", slots.Nodes.Skip(slots.MinimumReplicas + 1))}): declare more with WithSpareReplicas(n) and restart the AppHost.");

        // A slot removed earlier is still drained in HAProxy; ready again, the health checks decide.
        await SetRoutingAsync(node, "ready", cancellationToken);
        var steps = new List<ProcedureStep>();
        string? source = null;
        steps.Add(await StepAsync($"start {node}, clone, stream", async ct =>
        {
            await slots.StartAsync(node, ct);
            source = await WaitUntilStreamingAsync(node, ct);
        }, cancellationToken));
        steps.Add(await StepAsync($"route reads to {node}", ct => WaitForRoutingAsync(node, s => s?.IsUp == true, "UP in every HAProxy", ct), cancellationToken));
        return Done(new ReplicaChangeReport(node, "added", source, steps, total.Elapsed));
    }

    /// <summary>Drains, stops and forgets <paramref name="node"/>, by default the highest running node slot.</summary>
    public async Task<ReplicaChangeReport> RemoveAsync(string? node = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var state = await ReadAsync(cancellationToken);
        var running = await RunningNodesAsync(cancellationToken);
        node ??= running.Count > 0 ? running[^1] : null;
        if (node is null || !running.Contains(node))
        {
            throw new ReplicaChangeRefusedException($"{node ?? "No node"} is not running; running: {string.Join(", ", running)}.");
        }

        if (state.Leader is not { } leader)
        {
            throw new ReplicaChangeRefusedException("The cluster has no leader right now; remove a replica once one leads.");
        }

        if (leader.Name == node)
        {
            throw new ReplicaChangeRefusedException($"{node} is the leader: switch over first (Switchover on the cluster), then remove it.");
        }

        if (running.Count - 2 < slots.MinimumReplicas)
        {
            throw new ReplicaChangeRefusedException(
                $"The cluster keeps at least {slots.MinimumReplicas} replicas (WithReplicas({slots.MinimumReplicas})) and runs {running.Count - 1}: " +
                "lower the configured count to remove one.");
        }

        var steps = new List<ProcedureStep>
        {
            await StepAsync($"drain {node} in HAProxy", ct => DrainAsync(node, ct), cancellationToken),
            await StepAsync($"stop {node}, leave Patroni", async ct =>
            {
                await slots.StopAsync(node, ct);
                await WaitForClusterAsync(s => s.Members.All(m => m.Name != node) && s.Leader is not null, $"{node} gone from Patroni's members", ct);
            }, cancellationToken),
            await StepAsync($"drop slot {SlotNameOf(node)}", ct => DropSlotsAsync([SlotNameOf(node)], ct), cancellationToken),
        };
        // Stopped, it fails its checks; ready again, the slot is routed as soon as it is added back.
        await SetRoutingAsync(node, "ready", cancellationToken);
        return Done(new ReplicaChangeReport(node, "removed", null, steps, total.Elapsed));
    }

    /// <summary>The running nodes, in slot order.</summary>
    public async Task<IReadOnlyList<string>> RunningNodesAsync(CancellationToken cancellationToken = default)
    {
        var running = new List<string>();
        foreach (var node in slots.Nodes)
        {
            if (await slots.ContainerIdAsync(node, cancellationToken) is { } id && await IsRunningAsync(id, cancellationToken))
            {
                running.Add(node);
            }
        }

        return running;
    }

    /// <summary>The HAProxies that run now: one that is down routes nothing, so there is nothing to drain or check there.</summary>
    private async Task<IReadOnlyList<string>> RunningHAProxiesAsync(CancellationToken cancellationToken)
    {
        var running = new List<string>();
        foreach (var id in await slots.HAProxyContainerIdsAsync(cancellationToken))
        {
            if (await IsRunningAsync(id, cancellationToken))
            {
                running.Add(id);
            }
        }

        return running;
    }

    private static async Task<bool> IsRunningAsync(string container, CancellationToken cancellationToken) =>
        (await DockerCli.ExecuteAsync(["inspect", "--format", "{{.State.Running}}", container], cancellationToken: cancellationToken)).Text == "true";

    private async Task<string?> WaitUntilStreamingAsync(string node, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var databaseSize = await DatabaseSizeAsync(cancellationToken);
        var lastProgress = TimeSpan.Zero;
        TimeSpan? runningSince = null;
        var reinitialized = false;
        while (true)
        {
            var member = (await TryReadAsync(cancellationToken))?.Members.FirstOrDefault(m => m.Name == node);
            if (member is { IsStreamingReplica: true, LagBytes: { } lag } && lag <= settings.MaximumLagOnFailoverBytes)
            {
                return await CloneSourceAsync(node, cancellationToken);
            }

            if (clock.Elapsed - lastProgress >= progressInterval)
            {
                lastProgress = clock.Elapsed;
                var copied = await CopiedBytesAsync(node, cancellationToken);
                logger.LogInformation("{Node}: {State}{Copied} after {Seconds:F0} s", node, member?.State ?? "not in the cluster yet",
                    copied is null ? "" : $", {Bytes(copied.Value)} of the databases' ~{Bytes(databaseSize)} copied", clock.Elapsed.TotalSeconds);
            }

            // Old data that can't catch up (its WAL is gone) is re-cloned once; a fresh clone is "creating replica" meanwhile.
            runningSince = member?.State is "running" or "starting" or "stopped" or "start failed" ? runningSince ?? clock.Elapsed : null;
            if (!reinitialized && clock.Elapsed - runningSince > CatchUpTimeout && slots.RestUrl(node) is { } url)
            {
                logger.LogWarning("{Node} has not streamed for {Seconds:F0} s on its old data: cloning it again", node, CatchUpTimeout.TotalSeconds);
                await rest.ReinitializeAsync(url, cancellationToken);
                reinitialized = true;
            }

            if (clock.Elapsed > CloneTimeout)
            {
                throw new TimeoutException($"{node} did not stream within {CloneTimeout.TotalMinutes:F0} min; last seen: {member?.State ?? "not in the cluster"}.");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>No new sessions to <paramref name="node"/>; its idle ones closed until none is open, or <see cref="DrainTimeout"/>.</summary>
    private async Task DrainAsync(string node, CancellationToken cancellationToken)
    {
        await SetRoutingAsync(node, "drain", cancellationToken);
        var container = await slots.ContainerIdAsync(node, cancellationToken) ?? throw new InvalidOperationException($"{node} has no container.");
        var clock = Stopwatch.StartNew();
        var open = int.MaxValue;
        while (clock.Elapsed < DrainTimeout)
        {
            // Between transactions a pooled server connection is idle: closing it costs no client anything, and PgBouncer
            // opens its next one through HAProxy, which no longer picks this node. Patroni's own connection stays.
            await PsqlAsync(container, """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND state = 'idle' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'Patroni%'
                """, cancellationToken);
            open = 0;
            foreach (var haproxy in await RunningHAProxiesAsync(cancellationToken))
            {
                open += (await HAProxyRuntime.ReplicaServerAsync(haproxy, node, cancellationToken))?.CurrentSessions ?? 0;
            }

            if (open == 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        logger.LogWarning("{Node} still had {Sessions} sessions after {Seconds:F0} s of draining; stopping it closes them", node, open, DrainTimeout.TotalSeconds);
    }

    private async Task SetRoutingAsync(string node, string state, CancellationToken cancellationToken)
    {
        foreach (var haproxy in await RunningHAProxiesAsync(cancellationToken))
        {
            await HAProxyRuntime.SetStateAsync(haproxy, HAProxyRuntime.ReplicasBackend, node, state, cancellationToken);
        }
    }

    private async Task WaitForRoutingAsync(string node, Func<HAProxyServerStat?, bool> condition, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var servers = new List<HAProxyServerStat?>();
            foreach (var haproxy in await RunningHAProxiesAsync(cancellationToken))
            {
                servers.Add(await HAProxyRuntime.ReplicaServerAsync(haproxy, node, cancellationToken));
            }

            if (servers.All(condition))
            {
                return;
            }

            if (clock.Elapsed > StepTimeout)
            {
                throw new TimeoutException($"{node} not {what} after {StepTimeout.TotalSeconds:F0} s: {string.Join(", ", servers.Select(s => s?.Status ?? "not listed"))}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    /// <summary>Where Patroni cloned <paramref name="node"/> from, as its log says ("trying to bootstrap from replica 'pg-2'").</summary>
    private async Task<string?> CloneSourceAsync(string node, CancellationToken cancellationToken)
    {
        var container = await slots.ContainerIdAsync(node, cancellationToken);
        var log = container is null ? "" : (await DockerCli.ExecuteAsync(["logs", container], cancellationToken: cancellationToken)).Text;
        return CloneSource().Matches(log).LastOrDefault() is { } match ? $"{match.Groups["role"].Value} {match.Groups["name"].Value}" : null;
    }

    private async Task<long> DatabaseSizeAsync(CancellationToken cancellationToken) =>
        await slots.ContainerIdAsync((await ReadAsync(cancellationToken)).Leader?.Name ?? "", cancellationToken) is { } leader
            && long.TryParse(await PsqlAsync(leader, "SELECT sum(pg_database_size(oid)) FROM pg_database", cancellationToken), CultureInfo.InvariantCulture, out var size) ? size : 0;

    private async Task<long?> CopiedBytesAsync(string node, CancellationToken cancellationToken) =>
        await slots.ContainerIdAsync(node, cancellationToken) is { } container
            // Without pg_wal: the WAL streamed during the copy is not part of the databases it is compared with.
            && (await DockerCli.ExecuteAsync(["exec", container, "du", "-sb", "--exclude=pg_wal", "/var/lib/postgresql/data"], cancellationToken: cancellationToken)) is { Succeeded: true } du
            && long.TryParse(du.Text.Split('\t')[0], CultureInfo.InvariantCulture, out var bytes) ? bytes : null;

    private static async Task<string> PsqlAsync(string container, string sql, CancellationToken cancellationToken) =>
        await DockerCli.RunAsync(["exec", container, "psql", "-X", "-At", "-h", "/var/run/postgresql", "-d", "postgres", "-c", sql], cancellationToken);

    private static string Bytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F2} GiB" : $"{bytes / (double)(1L << 20):F0} MiB";

    [GeneratedRegex("bootstrap from (?<role>leader|replica) '(?<name>[^']+)'")]
    private static partial Regex CloneSource();
}
