using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// A standby cluster in a second region (<see cref="StandbyRegionDrill"/>: 1 etcd, 2 Patroni nodes, HAProxy, PgBouncer,
/// cloned from the shared cluster over an inter-region network): the shared cluster's region is lost at once, the standby
/// region is promoted and takes writes, and the old region comes back fenced, as the new region's standby that refuses
/// writes. Replication across regions is asynchronous: the test measures what was lost and checks that the replication
/// delay explains it, rather than pretending nothing was. The shared cluster is a primary of its own again afterwards.
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class StandbyRegionTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task ALostRegionIsReplacedByItsPromotedStandbyAndComesBackFencedAsTheNewRegionsStandby()
    {
        // Given a standby region streaming from the shared cluster while writers write into the shared cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        await using var drill = new StandbyRegionDrill(cluster, fixture.Logger);
        output.WriteLine($"standby region started and streaming in {(await drill.StartStandbyRegionAsync()).TotalSeconds:F1} s");
        var writes = await drill.StartWritersAsync(writers: 2);
        var delays = new List<TimeSpan>();
        for (var sample = 0; sample < 6; sample++)
        {
            delays.Add(await drill.MeasureReplicationDelayAsync());
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        output.WriteLine($"replication delay to the standby region under writes: {string.Join(", ", delays.Select(d => $"{d.TotalMilliseconds:F0}"))} ms");

        // When the primary region is lost and the standby region promoted
        var (promotion, rto, loss) = await drill.LosePrimaryAndPromoteAsync(writes);
        output.WriteLine($"promotion: {promotion}; first write accepted {rto.TotalSeconds:F1} s after the loss (RTO)");
        output.WriteLine($"RPO: {loss}");

        // Then it took a write, and lacks only the newest acknowledged writes, no older than the measured delay explains
        Assert.True(loss.Acknowledged > 50, $"too few writes to judge: {loss}");
        Assert.Equal(0, loss.Holes);
        Assert.True(loss.LostWindow <= delays.Max() + TimeSpan.FromSeconds(1),
            $"writes acknowledged {loss.LostWindow.TotalMilliseconds:F0} ms before the loss are missing; the delay measured was at most {delays.Max().TotalMilliseconds:F0} ms");

        // When the old region comes back
        var rejoin = await drill.ReturnOldRegionFencedAsync();
        output.WriteLine($"old region back, fenced: {rejoin}");

        // Then it never takes a write: not through its read-write port, not on its leader itself
        var oldRegion = await cluster.RegionNodes.ReadAsync(CancellationToken.None);
        Assert.Equal("standby_leader", oldRegion.Leader?.Role);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => RegionWriteLog.InsertAsync(cluster.LeaderConnectionString()));
        var oldLeader = cluster.NodeConnectionString(cluster.Node(oldRegion.Leader!.Name), ClusterRoles.Database);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => RegionWriteLog.InsertAsync(oldLeader));
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);

        // And it streams what the new primary region takes, to every one of its members
        var written = await RegionWriteLog.InsertAsync(drill.Standby!.PgBouncerConnectionString());
        foreach (var node in cluster.Nodes)
        {
            var seen = await RegionWriteLog.WaitUntilVisibleAsync(cluster.NodeConnectionString(node, ClusterRoles.Database), written, TimeSpan.FromSeconds(60));
            output.WriteLine($"{node.Name} has the new region's write after {seen.TotalMilliseconds:F0} ms");
        }
    }
}
