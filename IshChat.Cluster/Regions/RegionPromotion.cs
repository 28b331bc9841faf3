using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Regions;

/// <summary>
/// Turns the standby region into the writable one after its primary region is lost: removes <c>standby_cluster</c> from
/// its dynamic configuration (Patroni 4.0.7's only way; <c>patronictl promote-cluster</c> arrived in 4.1), then waits
/// until its leader runs as a primary. The dashboard command, the failover test and the bench share it.
/// Promoting while the old region still takes writes makes two primaries: the old one must be gone, cut off from its
/// clients, or fenced first (<see cref="RegionFence"/>); the runbook in docs/operations.md says how to tell.
/// </summary>
public sealed class RegionPromotion(PatroniNodes standbyRegion, ILogger logger)
{
    /// <summary>How long the standby leader may take to run as a primary once told.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    public async Task<RegionReport> PromoteAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var state = await standbyRegion.ReadAsync(cancellationToken);
        if (state.Leader is not { Role: "standby_leader" } standbyLeader)
        {
            throw new InvalidOperationException(state.Leader is { Role: "leader" } leader
                ? $"This region is writable already: {leader.Name} leads as a primary."
                : $"This region has no standby leader to promote ({PatroniNodes.Describe(state)}).");
        }

        var steps = new List<ProcedureStep>
        {
            await ProcedureStep.RunAsync("remove standby_cluster from the region's dynamic configuration",
                async ct => await standbyRegion.Rest.SetStandbyClusterAsync(standbyRegion.UrlOf(standbyLeader.Name), null, ct), logger, cancellationToken),
            // Patroni names the leader "leader" as soon as the key is gone, before PostgreSQL has left recovery; the new
            // timeline is what says it was promoted.
            await ProcedureStep.RunAsync($"wait until {standbyLeader.Name} runs as a writable primary (a new timeline after {standbyLeader.Timeline})",
                async ct => await standbyRegion.WaitForAsync(s => s.Leader is { Role: "leader", State: "running" } leader && IsNewTimeline(leader.Timeline),
                    Timeout, "a primary on a new timeline in the promoted region", ct),
                logger, cancellationToken),
        };

        var report = new RegionReport(steps, total.Elapsed);

        // A standby leader that has not reported the timeline it receives leaves only the primary's own to go by.
        bool IsNewTimeline(long? timeline) => standbyLeader.Timeline is { } before ? timeline > before : timeline is not null;
        logger.LogInformation("Region promoted: {Report}", report);
        return report;
    }
}
