using DotNet.Testcontainers.Networks;
using IshChat.Cluster.Regions;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// This cluster as one region of two (docs/operations.md, "Standby cluster in a second region"): on the inter-region
/// network, lost as a whole, and back as the other region's fenced standby.
/// </summary>
public sealed partial class PatroniTestCluster
{
    /// <summary>What the other region's <c>standby_cluster</c> names to follow this one: its HAProxy on the link.</summary>
    public StandbyClusterSettings AsStandbyTarget => new(NameOf("haproxy"));

    /// <summary>The region's Patroni members, as the region procedures (<see cref="RegionPromotion"/>, <see cref="RegionFence"/>) see them.</summary>
    public PatroniNodes RegionNodes => new(Rest, () => Nodes.Select(n => (n.Name, (Uri?)RestUrl(n))));

    /// <summary>
    /// Puts the running nodes and HAProxy on <paramref name="network"/> under their names (a region started alone joins a
    /// link). Docker may make the new network the container's gateway and move its published ports there, on new host
    /// ports: they are read again.
    /// </summary>
    public async Task JoinInterRegionNetworkAsync(INetwork network, CancellationToken cancellationToken = default)
    {
        foreach (var node in Nodes.Append(HAProxy))
        {
            await DockerCli.RunAsync(["network", "connect", "--alias", node.Name, network.Name, node.ContainerId], cancellationToken);
            await node.RefreshHostPortsAsync(cancellationToken);
        }

        InterRegionNetwork = network;
    }

    /// <summary>Takes the nodes and HAProxy off the inter-region network again, so it can be removed.</summary>
    public async Task LeaveInterRegionNetworkAsync(CancellationToken cancellationToken = default)
    {
        if (InterRegionNetwork is not { } network)
        {
            return;
        }

        foreach (var node in Nodes.Append(HAProxy))
        {
            await DockerCli.ExecuteAsync(["network", "disconnect", "--force", network.Name, node.ContainerId], cancellationToken: cancellationToken);
            await node.RefreshHostPortsAsync(cancellationToken);
        }

        InterRegionNetwork = null;
    }

    /// <summary>
    /// The whole region gone at once, with no warning: every container (etcd, nodes, HAProxy, PgBouncer) SIGKILLed together
    /// and held down (no self-healing) until <see cref="ReturnFencedAsync"/>. Nothing is flushed or handed over.
    /// </summary>
    public async Task<IDisposable> LoseRegionAsync(CancellationToken cancellationToken = default)
    {
        var everything = Etcd.Concat(Nodes).Append(HAProxy).Append(PgBouncer).ToList();
        var holds = everything.Select(HoldDown).ToList();
        await Task.WhenAll(everything.Select(c => DockerCli.ExecuteAsync(["kill", "--signal", "KILL", c.ContainerId], cancellationToken: cancellationToken)));
        logger.LogInformation("Region of {Scope} lost: {Count} containers killed", Options.Scope, everything.Count);
        return new Holds(holds);
    }

    /// <summary>
    /// Brings a lost region back as the fenced standby of <paramref name="newPrimaryRegion"/>: etcd first; the fence written
    /// into it while no Patroni node runs (<see cref="RegionFence.FenceBeforeStartAsync"/>); then the nodes, HAProxy and
    /// PgBouncer. Returns the fence step; <see cref="RegionFence.RejoinAsync"/> then waits until it streams.
    /// </summary>
    public async Task<ProcedureStep> ReturnFencedAsync(StandbyClusterSettings newPrimaryRegion, IDisposable held, CancellationToken cancellationToken = default)
    {
        foreach (var member in Etcd)
        {
            await DockerCli.StartAsync(member.ContainerId, cancellationToken);
            await member.RefreshHostPortsAsync(cancellationToken);
        }

        // The fence rewrites Patroni's own configuration key, so it logs in as Patroni's etcd user: the host's user may only
        // release the leader key (EtcdAuthentication). Not disposed with its handler: httpsHandler outlives this call.
        using var asPatroni = new HttpClient(
            new EtcdTokenHandler(EtcdAuthentication.PatroniUser, _ => Task.FromResult(secrets[ClusterSecret.EtcdPatroniPassword])) { InnerHandler = httpsHandler },
            disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
        var configuration = new PatroniConfigKey(asPatroni, Options.Scope);
        var etcd = EtcdUrl(Etcd[0]);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await configuration.ReadAsync(etcd, cancellationToken);
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 120 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }

        var fence = await RegionFence.FenceBeforeStartAsync(configuration, etcd, newPrimaryRegion, logger, cancellationToken);
        foreach (var container in Nodes.Append(HAProxy).Append(PgBouncer))
        {
            await DockerCli.StartAsync(container.ContainerId, cancellationToken);
            await container.RefreshHostPortsAsync(cancellationToken);
        }

        held.Dispose();
        return fence;
    }

    private sealed class Holds(IReadOnlyList<IDisposable> holds) : IDisposable
    {
        public void Dispose()
        {
            foreach (var hold in holds)
            {
                hold.Dispose();
            }
        }
    }
}
