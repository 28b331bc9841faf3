using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>The primary goes away (killed, crashed, stopped): a replica takes over and clients write again.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class PrimaryLossTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task KilledPrimaryIsReplacedByAReplicaAndWritesResumeThroughPgBouncer()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();

        // When the primary's container is killed
        await cluster.InjectAsync(Fault.Kill, oldLeader);
        var outage = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));

        // Then another node leads and took the write
        var newLeader = await cluster.LeaderAsync();
        output.WriteLine($"Killed {oldLeader}; {newLeader} leads; first write after {outage.TotalSeconds:F1} s");
        Assert.NotEqual(oldLeader.Name, newLeader.Name);
        Assert.True(outage < TimeSpan.FromSeconds(45), $"writes resumed only after {outage.TotalSeconds:F1} s");

        // And the old primary, started again, rejoins as a streaming replica
        await cluster.RepairAsync(Fault.Kill, oldLeader);
        var healed = await cluster.WaitForHealthyAsync(settle);
        Assert.Equal(newLeader.Name, healed.Leader!.Name);
        Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task CrashedPostgresOnThePrimaryIsRestartedByPatroniWithinSeconds()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var leader = await cluster.LeaderAsync();

        // When only the postmaster dies (Patroni keeps running and keeps the leader key)
        await cluster.InjectAsync(Fault.Crash, leader);
        var outage = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));

        // Then Patroni restarts PostgreSQL in place on its next loop: the same node still leads.
        // Restarting beats failing over here: the node still holds the lease and its data is intact,
        // and crash recovery of a small database takes a second; primary_start_timeout (10 s) bounds it.
        var after = await cluster.WaitForHealthyAsync(settle);
        output.WriteLine($"Crashed postgres on {leader}; {after.Leader!.Name} leads; first write after {outage.TotalSeconds:F1} s");
        Assert.Equal(leader.Name, after.Leader!.Name);
        Assert.True(outage < TimeSpan.FromSeconds(30), $"writes resumed only after {outage.TotalSeconds:F1} s");
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task GracefullyStoppedPrimaryHandsOverAndWritesResume()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();

        // When the primary's container is stopped (SIGTERM: Patroni shuts down cleanly and releases its key)
        await cluster.InjectAsync(Fault.Stop, oldLeader);
        var outage = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));

        // Then a replica leads at once, without waiting out the lease
        var newLeader = await cluster.LeaderAsync();
        output.WriteLine($"Stopped {oldLeader}; {newLeader} leads; first write after {outage.TotalSeconds:F1} s");
        Assert.NotEqual(oldLeader.Name, newLeader.Name);
        Assert.True(outage < TimeSpan.FromSeconds(20), $"writes resumed only after {outage.TotalSeconds:F1} s");

        await cluster.RepairAsync(Fault.Stop, oldLeader);
        await cluster.WaitForHealthyAsync(settle);
    }
}
