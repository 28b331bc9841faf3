using System.Diagnostics;
using System.Text.Json.Nodes;
using IshChat.Cluster.Etcd;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Regions;

/// <summary>
/// Keeps a primary region that was given up (its standby region promoted) from ever taking writes again, and makes it
/// the new primary region's standby.
///
/// The race: a lost region that comes back has a leader with data; left alone, its Patroni starts PostgreSQL read-only
/// and promotes it on its first loop (it holds, or takes, the leader key), and HAProxy routes writes to it. A demotion
/// through <c>PATCH /config</c> can only come after its REST API answers, i.e. after that loop: a window of writes
/// that the new primary region never sees. So the fence is written into the region's etcd <em>before any of its Patroni
/// nodes starts</em> (<see cref="FenceBeforeStartAsync"/>): the first loop already reads <c>standby_cluster</c>, and
/// Patroni then starts its leader as a standby leader (never promoted) that follows the new primary region. Its
/// diverged timeline (commits that never reached the other region) is rewound with pg_rewind (<c>use_pg_rewind</c>),
/// which Patroni runs against the remote primary in a standby cluster; a member that still does not stream is
/// re-cloned (<see cref="RejoinAsync"/>). <see cref="DemoteAsync"/> is for a region that is already running (it was
/// cut off rather than down): it narrows the window to one Patroni loop but can't close it, so cut its clients off first.
/// </summary>
public sealed class RegionFence(PatroniNodes oldRegion, ILogger logger)
{
    /// <summary>How long the old region may take to stream from the new primary region, rewinds included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How long a member may stay off the stream before it is re-cloned from the standby leader.</summary>
    public TimeSpan ReinitializeAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Writes <c>standby_cluster</c> (following <paramref name="newPrimaryRegion"/>) into the region's dynamic
    /// configuration in its etcd, while none of its Patroni nodes runs. Call it after the region's etcd answers and
    /// before its first Patroni node starts.
    /// </summary>
    public static async Task<ProcedureStep> FenceBeforeStartAsync(
        PatroniConfigKey configuration, Uri etcdClientUrl, StandbyClusterSettings newPrimaryRegion, ILogger logger, CancellationToken cancellationToken = default) =>
        await ProcedureStep.RunAsync($"fence: standby_cluster → {newPrimaryRegion.Host}:{newPrimaryRegion.Port} written into {configuration.Key} before any node starts",
            ct => configuration.SetAsync(etcdClientUrl, "standby_cluster", JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(newPrimaryRegion.ToDynamicConfiguration())), ct),
            logger, cancellationToken);

    /// <summary>Demotes a running region to a standby of <paramref name="newPrimaryRegion"/> (PATCH /config), then waits as <see cref="RejoinAsync"/>.</summary>
    public async Task<RegionReport> DemoteAsync(StandbyClusterSettings newPrimaryRegion, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var demote = await ProcedureStep.RunAsync($"demote: standby_cluster → {newPrimaryRegion.Host}:{newPrimaryRegion.Port} through PATCH /config",
            async ct => await oldRegion.Rest.SetStandbyClusterAsync(await oldRegion.AnyAnsweringAsync(ct), newPrimaryRegion, ct), logger, cancellationToken);
        var rejoin = await RejoinAsync(cancellationToken);
        return new RegionReport([demote, .. rejoin.Steps], total.Elapsed);
    }

    /// <summary>
    /// Waits until the fenced region's leader is a standby leader streaming from the other region and every member
    /// streams from it; a member that is not streaming after <see cref="ReinitializeAfter"/> (its timeline could not be
    /// rewound) is re-cloned.
    /// </summary>
    public async Task<RegionReport> RejoinAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var steps = new List<ProcedureStep>
        {
            await ProcedureStep.RunAsync("wait for a standby leader streaming from the new primary region",
                async ct => await oldRegion.WaitForAsync(s => s.Leader is { Role: "standby_leader", State: "streaming" }, Timeout, "a streaming standby leader", ct),
                logger, cancellationToken),
        };

        var reinitialized = new HashSet<string>(StringComparer.Ordinal);
        steps.Add(await ProcedureStep.RunAsync("wait for every member to stream (rewound, or re-cloned)", async ct =>
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var state = await oldRegion.ReadAsync(ct);
                var behind = state.Members.Where(m => !m.IsLeader && !m.IsStreamingReplica).ToList();
                if (state.Leader is { Role: "standby_leader" } && state.StreamingReplicas >= oldRegion.Count - 1 && behind.Count == 0)
                {
                    return;
                }

                if (clock.Elapsed > Timeout)
                {
                    throw new TimeoutException($"The fenced region did not stream within {Timeout.TotalSeconds:F0} s: {PatroniNodes.Describe(state)}.");
                }

                if (clock.Elapsed > ReinitializeAfter)
                {
                    foreach (var member in behind.Where(m => reinitialized.Add(m.Name)))
                    {
                        logger.LogWarning("{Member} does not stream after {Seconds:F0} s ({State}): re-cloning it", member.Name, clock.Elapsed.TotalSeconds, member.State);
                        await oldRegion.Rest.ReinitializeAsync(oldRegion.UrlOf(member.Name), ct);
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
        }, logger, cancellationToken));

        var report = new RegionReport(steps, total.Elapsed);
        logger.LogInformation("Old region fenced and streaming: {Report}", report);
        return report;
    }
}
