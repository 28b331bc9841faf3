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
/// Applies restart-requiring settings, or a new node image, to a running cluster without an outage: replicas first, one at a
/// time, each streaming again before the next; then a switchover to an updated replica; then the old leader. Writes pause only
/// for the switchover. A node pending a restart is restarted through Patroni; a node whose container runs a replaced image
/// (<paramref name="containers"/>, <see cref="Images.ImageReplacement"/>) is recreated, which applies pending settings too.
/// The dashboard commands, the failover tests and the benchmarks share this one procedure.
/// </summary>
/// <param name="rest">Authorised for Patroni's unsafe methods.</param>
/// <param name="nodes">Every member's name and REST URL (null while not allocated).</param>
/// <param name="containers">The nodes' containers, when the update may replace their image; null for settings alone.</param>
public sealed class RollingRestart(
    PatroniRestClient rest, Func<IEnumerable<(string Name, Uri? Url)>> nodes, PatroniSettings settings, ILogger logger, INodeContainers? containers = null)
{
    private readonly PatroniNodes cluster = new(rest, nodes);

    /// <summary>How long one step may take to bring the cluster back to healthy.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Sets <paramref name="parameters"/> (when given) in Patroni's dynamic configuration, then restarts every member
    /// that reports "pending restart" or runs a replaced image, in the safe order. Refuses to start on a cluster that is not healthy.
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

        var replaced = await RunningReplacedImagesAsync(state, cancellationToken);
        bool Stale(PatroniMember member) => member.PendingRestart || replaced.Contains(member.Name);
        logger.LogInformation("Pending restart: {Members}; on a replaced image: {Replaced}",
            Names(state.Members.Where(m => m.PendingRestart)), Names(state.Members.Where(m => replaced.Contains(m.Name))));

        var replicas = state.Members.Where(m => !m.IsLeader && Stale(m)).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < replicas.Count; i++)
        {
            var name = replicas[i].Name;
            steps.Add(await StepAsync($"{Verb(name, replaced)} replica {name} ({i + 1} of {replicas.Count})",
                ct => RestartMemberAsync(name, replaced, ct), cancellationToken));
        }

        state = await ReadAsync(cancellationToken);
        if (state.Leader is { } leader && Stale(leader))
        {
            var candidate = state.Members.Where(m => m.IsStreamingReplica && !Stale(m)).OrderBy(m => m.LagBytes ?? long.MaxValue).FirstOrDefault()
                ?? throw new InvalidOperationException("No updated replica is streaming to hand leadership to.");
            steps.Add(await StepAsync($"switch over {leader.Name} → {candidate.Name}", async ct =>
            {
                await rest.SwitchoverAsync(UrlOf(leader.Name), leader.Name, candidate.Name, ct);
                await WaitForAsync(s => s.Leader?.Name == candidate.Name && Evaluate(s).IsHealthy, StepTimeout, $"{candidate.Name} leading, {leader.Name} streaming", ct);
            }, cancellationToken));

            // A demoted primary restarts as a replica, which usually applies a setting already; an image, never.
            if (replaced.Contains(leader.Name) || (await ReadAsync(cancellationToken)).Members.Any(m => m.Name == leader.Name && m.PendingRestart))
            {
                steps.Add(await StepAsync($"{Verb(leader.Name, replaced)} old leader {leader.Name}",
                    ct => RestartMemberAsync(leader.Name, replaced, ct), cancellationToken));
            }
        }

        var report = new RollingRestartReport(steps, total.Elapsed);
        logger.LogInformation("Rolling restart done: {Report}", report);
        return report;
    }

    private static string Verb(string name, HashSet<string> replaced) => replaced.Contains(name) ? "recreate (new image)" : "restart";

    private static string Names(IEnumerable<PatroniMember> members) =>
        members.Select(m => m.Name).DefaultIfEmpty("none").Aggregate((a, b) => $"{a}, {b}");

    private async Task<HashSet<string>> RunningReplacedImagesAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var replaced = new HashSet<string>(StringComparer.Ordinal);
        if (containers is null)
        {
            return replaced;
        }

        foreach (var member in state.Members)
        {
            if (await containers.RunsReplacedImageAsync(member.Name, cancellationToken))
            {
                replaced.Add(member.Name);
            }
        }

        return replaced;
    }

    private async Task RestartMemberAsync(string name, HashSet<string> replaced, CancellationToken cancellationToken)
    {
        if (!replaced.Contains(name))
        {
            await rest.RestartIfPendingAsync(UrlOf(name), cancellationToken);
        }
        else
        {
            var recreated = DateTimeOffset.UtcNow;
            await containers!.RecreateAsync(name, cancellationToken);
            if (await containers.RunsReplacedImageAsync(name, cancellationToken))
            {
                throw new InvalidOperationException($"{name} was recreated but still runs the replaced image.");
            }

            // The cluster view may still show the old container's "streaming" until its member key expires: ask the node itself.
            await cluster.WaitForNodeAsync(name, status => status.RunsSince(recreated), StepTimeout, $"{name}'s PostgreSQL running in its new container", cancellationToken);
            replaced.Remove(name);
        }

        await WaitForAsync(s => Evaluate(s).IsHealthy && s.Members.Any(m => m.Name == name && m.IsStreamingReplica && !m.PendingRestart),
            StepTimeout, $"{name} streaming again", cancellationToken);
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
