using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>What a rolling restart did, step by step.</summary>
public sealed record RollingRestartReport(IReadOnlyList<ProcedureStep> Steps, TimeSpan Total)
{
    public override string ToString() => Steps.Count == 0
        ? "nothing was pending a restart"
        : $"{string.Join("; ", Steps.Select(s => $"{s.Description} ({s.Duration.TotalSeconds:F1} s)"))}; total {Total.TotalSeconds:F1} s";
}

/// <summary>
/// Applies restart-requiring settings to a running cluster without an outage: replicas first, one at a time, each
/// streaming again before the next; then a switchover to a restarted replica; then the old leader. Writes pause only
/// for the switchover. The dashboard command, the failover tests and the benchmarks share this one procedure.
/// </summary>
/// <param name="rest">Authorised for Patroni's unsafe methods.</param>
/// <param name="nodes">Every member's name and REST URL (null while not allocated).</param>
public sealed class RollingRestart(
    PatroniRestClient rest, Func<IEnumerable<(string Name, Uri? Url)>> nodes, PatroniSettings settings, ILogger logger)
{
    private readonly PatroniNodes cluster = new(rest, nodes);

    /// <summary>How long one step may take to bring the cluster back to healthy.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Sets <paramref name="parameters"/> (when given) in Patroni's dynamic configuration, then restarts every member
    /// that reports "pending restart", in the safe order. Refuses to start on a cluster that is not healthy.
    /// </summary>
    public async Task<RollingRestartReport> RunAsync(IReadOnlyDictionary<string, string>? parameters = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var steps = new List<ProcedureStep>();
        var state = await ReadAsync(cancellationToken);
        var health = Evaluate(state);
        if (!health.IsHealthy)
        {
            throw new InvalidOperationException($"Not starting a rolling restart on a cluster that is not healthy: {health.Summary}.");
        }

        if (parameters is { Count: > 0 })
        {
            await rest.SetPostgresParametersAsync(UrlOf(state.Leader!.Name), parameters, cancellationToken);
            logger.LogInformation("Set {Parameters}; waiting for every member to load it", string.Join(", ", parameters.Select(p => $"{p.Key}={p.Value}")));
            // Each member reloads on its next loop and then says whether the change needs a restart; one that only
            // needs a reload leaves none pending, and the wait ends empty-handed.
            state = await WaitForAsync(s => s.Members.All(m => m.PendingRestart), TimeSpan.FromSeconds(30), "every member loading the change", cancellationToken, throwOnTimeout: false)
                ?? await ReadAsync(cancellationToken);
        }

        var pending = state.Members.Where(m => m.PendingRestart).Select(m => m.Name).ToList();
        logger.LogInformation("Pending restart: {Members}", pending.Count == 0 ? "none" : string.Join(", ", pending));

        var replicas = state.Members.Where(m => !m.IsLeader && m.PendingRestart).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < replicas.Count; i++)
        {
            var name = replicas[i].Name;
            steps.Add(await StepAsync($"restart replica {name} ({i + 1} of {replicas.Count})", async ct =>
            {
                await rest.RestartIfPendingAsync(UrlOf(name), ct);
                await WaitForAsync(s => Evaluate(s).IsHealthy && s.Members.Any(m => m.Name == name && m.IsStreamingReplica && !m.PendingRestart),
                    StepTimeout, $"{name} streaming again", ct);
            }, cancellationToken));
        }

        state = await ReadAsync(cancellationToken);
        if (state.Leader is { PendingRestart: true } leader)
        {
            var candidate = state.Members.Where(m => m.IsStreamingReplica && !m.PendingRestart).OrderBy(m => m.LagBytes ?? long.MaxValue).FirstOrDefault()
                ?? throw new InvalidOperationException("No restarted replica is streaming to hand leadership to.");
            steps.Add(await StepAsync($"switch over {leader.Name} → {candidate.Name}", async ct =>
            {
                await rest.SwitchoverAsync(UrlOf(leader.Name), leader.Name, candidate.Name, ct);
                await WaitForAsync(s => s.Leader?.Name == candidate.Name && Evaluate(s).IsHealthy, StepTimeout, $"{candidate.Name} leading, {leader.Name} streaming", ct);
            }, cancellationToken));

            // A demoted primary restarts as a replica, which usually applies the change already.
            if ((await ReadAsync(cancellationToken)).Members.Any(m => m.Name == leader.Name && m.PendingRestart))
            {
                steps.Add(await StepAsync($"restart old leader {leader.Name}", async ct =>
                {
                    await rest.RestartIfPendingAsync(UrlOf(leader.Name), ct);
                    await WaitForAsync(s => Evaluate(s).IsHealthy && s.Members.Any(m => m.Name == leader.Name && m.IsStreamingReplica && !m.PendingRestart),
                        StepTimeout, $"{leader.Name} streaming again", ct);
                }, cancellationToken));
            }
        }

        var report = new RollingRestartReport(steps, total.Elapsed);
        logger.LogInformation("Rolling restart done: {Report}", report);
        return report;
    }

    private Task<ProcedureStep> StepAsync(string description, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        ProcedureStep.RunAsync(description, step, logger, cancellationToken);

    private ClusterHealth Evaluate(ClusterState state) => state.Evaluate(cluster.Count, settings);

    private Uri UrlOf(string name) => cluster.UrlOf(name);

    private Task<ClusterState> ReadAsync(CancellationToken cancellationToken) => cluster.ReadAsync(cancellationToken);

    private Task<ClusterState?> WaitForAsync(
        Func<ClusterState, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, bool throwOnTimeout = true) =>
        cluster.WaitForAsync(condition, timeout, what, cancellationToken, s => Evaluate(s).Summary, throwOnTimeout);
}
