using System.Diagnostics;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Networks;
using IshChat.Cluster.Regions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// A region loss from start to end, shared by the failover test and bench/standby.sh: a small standby region
/// (1 etcd, 2 Patroni nodes, HAProxy, PgBouncer) replicating from <paramref name="primary"/> over an inter-region
/// network; writes into the primary region; the primary region lost at once; the standby region promoted
/// (<see cref="RegionPromotion"/>); the old region back, fenced before any node starts (<see cref="RegionFence"/>).
/// Disposing it puts <paramref name="primary"/> back as a cluster of its own (the standby region removed, the
/// primary region promoted again by the same procedure), so a shared cluster can serve the next test.
/// </summary>
public sealed class StandbyRegionDrill(PatroniTestCluster primary, ILogger logger) : IAsyncDisposable
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private INetwork? network;
    private IDisposable? primaryHeldDown;

    public PatroniTestCluster? Standby { get; private set; }

    /// <summary>Replicas of the standby region besides its standby leader.</summary>
    public int StandbyReplicas { get; init; } = 1;

    /// <summary>Creates the link, starts the standby region on it and waits until its leader and replica stream; how long that took.</summary>
    public async Task<TimeSpan> StartStandbyRegionAsync(CancellationToken cancellationToken = default)
    {
        var started = clock.Elapsed;
        // The standby leader's first clone goes through the primary region's HAProxy; if that has no primary UP at the
        // moment (just after a failover or a promotion), pg_basebackup fails and Patroni 4.0.7 gives the bootstrap up
        // for good ("Failed to bootstrap cluster", the node exits). So start only once writes get through.
        await ClusterProbes.TimeUntilWritableAsync(primary, TimeSpan.FromMinutes(2), cancellationToken);
        // Not internal (--internal): Testcontainers' HTTP wait then finds no address for HAProxy ("Invalid URI"). Host ports
        // are read again after every container joins the link instead (PatroniTestCluster).
        network = new NetworkBuilder().WithName($"ishchat-link-{Guid.NewGuid():N}"[..24]).WithLabel("io.ishchat.network", "true").Build();
        await network.CreateAsync(cancellationToken);
        await primary.JoinInterRegionNetworkAsync(network, cancellationToken);
        Standby = await PatroniTestCluster.StartAsync(new TestClusterOptions
        {
            NamePrefix = "dr-", EtcdMembers = 1, Replicas = StandbyReplicas, StandbyOf = primary.AsStandbyTarget,
            Patroni = primary.Options.Patroni, SelfHealing = false, ReleaseDeadLeaderKey = false, FenceSilentPrimary = false,
        }, logger, cancellationToken, new RegionLink(primary, network));
        await Standby.RegionNodes.WaitForAsync(
            s => s.Leader is { Role: "standby_leader", State: "streaming" } && s.StreamingReplicas >= StandbyReplicas,
            TimeSpan.FromMinutes(5), "the standby region's leader and replicas streaming", cancellationToken);
        return clock.Elapsed - started;
    }

    /// <summary>Writes a row into the primary region and times until the standby region's leader has it (the cross-region delay).</summary>
    public async Task<TimeSpan> MeasureReplicationDelayAsync(CancellationToken cancellationToken = default)
    {
        var standbyLeader = await StandbyLeaderAsync(cancellationToken);
        var sent = clock.Elapsed;
        var id = await RegionWriteLog.InsertAsync(primary.LeaderConnectionString(), cancellationToken);
        await RegionWriteLog.WaitUntilVisibleAsync(standbyLeader, id, TimeSpan.FromSeconds(60), cancellationToken);
        return clock.Elapsed - sent;
    }

    /// <summary>Starts writers into the primary region; the table is created there and waited for in the standby region.</summary>
    public async Task<RegionWriteLog> StartWritersAsync(int writers, CancellationToken cancellationToken = default)
    {
        await RegionWriteLog.PrepareAsync(primary, cancellationToken);
        await MeasureReplicationDelayAsync(cancellationToken);
        var log = new RegionWriteLog(primary, clock, writers);
        log.Start();
        return log;
    }

    /// <summary>
    /// Kills the whole primary region, stops the writers, promotes the standby region, and writes into it through its
    /// PgBouncer until one write is accepted. Returns the promotion's steps, the time from the loss to that first accepted
    /// write (the RTO, with no time taken to decide), and what the promoted region holds of the acknowledged writes.
    /// </summary>
    public async Task<(RegionReport Promotion, TimeSpan Rto, RegionLossCheck Loss)> LosePrimaryAndPromoteAsync(RegionWriteLog writes, CancellationToken cancellationToken = default)
    {
        var standby = Standby ?? throw new InvalidOperationException("Start the standby region first.");
        var lossAt = clock.Elapsed;
        primaryHeldDown = await primary.LoseRegionAsync(cancellationToken);
        await writes.StopAsync();

        var promotion = await new RegionPromotion(standby.RegionNodes, logger).PromoteAsync(cancellationToken);
        while (true)
        {
            try
            {
                await RegionWriteLog.InsertAsync(standby.PgBouncerConnectionString(), cancellationToken);
                break;
            }
            catch (NpgsqlException ex) when (clock.Elapsed - lossAt < TimeSpan.FromMinutes(2))
            {
                logger.LogInformation("Promoted region: write refused yet ({Message})", ex.Message);
                await Task.Delay(100, cancellationToken);
            }
        }

        var rto = clock.Elapsed - lossAt;
        var loss = await writes.CheckAsync(standby.LeaderConnectionString(), lossAt, cancellationToken);
        return (promotion, rto, loss);
    }

    /// <summary>Brings the lost primary region back, fenced before its nodes start, and waits until every member streams from the promoted region.</summary>
    public async Task<RegionReport> ReturnOldRegionFencedAsync(CancellationToken cancellationToken = default)
    {
        var standby = Standby ?? throw new InvalidOperationException("Start the standby region first.");
        var total = Stopwatch.StartNew();
        var fence = await primary.ReturnFencedAsync(standby.AsStandbyTarget, primaryHeldDown!, cancellationToken);
        primaryHeldDown = null;
        var rejoin = await new RegionFence(primary.RegionNodes, logger).RejoinAsync(cancellationToken);
        return new RegionReport([fence, .. rejoin.Steps], total.Elapsed);
    }

    /// <summary>The standby region's leader, straight (superuser, no router): what it has replicated.</summary>
    public async Task<string> StandbyLeaderAsync(CancellationToken cancellationToken = default)
    {
        var standby = Standby ?? throw new InvalidOperationException("Start the standby region first.");
        var state = await standby.RegionNodes.ReadAsync(cancellationToken);
        return standby.NodeConnectionString(standby.Node(state.Leader?.Name ?? standby.Nodes[0].Name), ClusterRoles.Database);
    }

    /// <summary>
    /// Removes the standby region and the link and makes the primary region a cluster of its own again, whatever state
    /// the drill left it in: back from a loss (fenced towards nothing) if it was still down, then promoted.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        if (Standby is not null)
        {
            await Standby.DisposeAsync();
        }

        try
        {
            if (primaryHeldDown is { } held)
            {
                await primary.ReturnFencedAsync(primary.AsStandbyTarget, held, timeout.Token);
            }

            var config = await primary.Rest.GetDynamicConfigurationAsync(await primary.RegionNodes.AnyAnsweringAsync(timeout.Token), timeout.Token);
            if (StandbyClusterSettings.IsStandbyCluster(config))
            {
                await primary.RegionNodes.WaitForAsync(s => s.Leader is { Role: "standby_leader" }, TimeSpan.FromMinutes(2), "a standby leader to promote back", timeout.Token);
                await new RegionPromotion(primary.RegionNodes, logger).PromoteAsync(timeout.Token);
            }

            await primary.LeaveInterRegionNetworkAsync(timeout.Token);
            await primary.WaitForHealthyAsync(TimeSpan.FromMinutes(3), timeout.Token);
            await ClusterProbes.TimeUntilWritableAsync(primary, TimeSpan.FromMinutes(1), timeout.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or OperationCanceledException or PatroniRequestException)
        {
            // Not thrown: it would hide why the drill failed. A cluster left unhealthy fails the next test's own wait.
            logger.LogError("Could not make the primary region a cluster of its own again: {Message}", ex.Message);
        }
        finally
        {
            if (network is not null)
            {
                // Also after a failure above: a network with containers on it can't be removed.
                await primary.LeaveInterRegionNetworkAsync(CancellationToken.None);
                await network.DisposeAsync();
            }
        }
    }
}
