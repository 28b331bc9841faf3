using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>Planned changes of primary through Patroni's REST API, as the dashboard commands do them.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class PlannedChangeTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task SwitchoverHandsLeadershipToAReplicaWithAShortWritePause()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();

        // When a switchover is asked of the leader
        await cluster.Rest.SwitchoverAsync(cluster.RestUrl(oldLeader), oldLeader.Name, candidate: null);
        var pause = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));
        var after = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a new leader");

        // Then a replica leads, and the old leader follows it
        output.WriteLine($"Switchover {oldLeader} → {after.Leader!.Name}; first write after {pause.TotalSeconds:F1} s");
        Assert.True(pause < TimeSpan.FromSeconds(20), $"writes paused {pause.TotalSeconds:F1} s");
        var healed = await cluster.WaitForHealthyAsync(settle);
        Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task FailoverToAChosenReplicaPromotesExactlyThatReplica()
    {
        // Given a healthy cluster and one replica chosen
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);
        var chosen = before.Members.Where(m => m.IsStreamingReplica).OrderBy(m => m.Name).Last().Name;

        // When a failover to it is asked
        await cluster.Rest.FailoverAsync(cluster.RestUrl(cluster.Node(chosen)), chosen);
        var after = await cluster.WaitForAsync(s => s.Leader?.Name == chosen, settle, $"{chosen} leading");

        // Then exactly that replica leads and clients write to it
        var pause = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));
        output.WriteLine($"Failover {before.Leader!.Name} → {chosen}; writes after {pause.TotalSeconds:F1} s more");
        Assert.Equal(chosen, after.Leader!.Name);
        await cluster.WaitForHealthyAsync(settle);
    }
}
