using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>A primary that is alive but unreachable or frozen must never lead alongside a new one.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class SplitBrainTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task PartitionedPrimaryStopsTakingWritesAndRejoinsAsReplicaWithoutDivergence()
    {
        // Given a healthy cluster with a row everyone has
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();
        await using var sampler = SplitBrainSampler.Start(cluster);

        // When the primary is cut off from the network
        await cluster.InjectAsync(Fault.Partition, oldLeader);
        var newLeader = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a leader on the majority side");

        // Then the isolated old primary demotes itself (it can't renew its lease) and takes no writes
        var demoted = await Eventually.GetAsync(
            ct => cluster.PsqlInsideAsync(oldLeader, "SELECT pg_is_in_recovery()", ct), r => r == "t", TimeSpan.FromSeconds(60),
            "the isolated old primary going read-only");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => cluster.PsqlInsideAsync(oldLeader, "CREATE TABLE split_brain_probe (id int)"));
        Assert.Contains("read-only", refused.Message);

        // And after reconnecting it rejoins as a replica of the new leader, with the new leader's data
        await cluster.RepairAsync(Fault.Partition, oldLeader);
        await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));
        var marker = Guid.NewGuid().ToString("N");
        await WriteMarkerAsync(cluster, marker);
        var healed = await cluster.WaitForHealthyAsync(settle);
        var replicated = await Eventually.GetAsync(
            ct => cluster.PsqlInsideAsync(oldLeader, $"SELECT count(*) FROM pg_catalog.pg_shdescription WHERE description = 'marker {marker}'", ct),
            r => r == "1", TimeSpan.FromSeconds(60), "the new leader's write replayed on the rejoined node");

        output.WriteLine($"Partitioned {oldLeader}; {newLeader.Leader!.Name} took over; split-brain samples {sampler.Samples}, " +
            $"most write routes {sampler.MostWriteRoutes}, most leaders {sampler.MostLeaders}, most writable nodes {sampler.MostWritableNodes}");
        Assert.Equal("t", demoted);
        Assert.Equal("1", replicated);
        Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
        Assert.True(sampler.MostWriteRoutes <= 1, $"HAProxy routed writes to {sampler.MostWriteRoutes} servers at once: {string.Join("; ", sampler.DoubleRoutes)}");
        Assert.True(sampler.MostLeaders <= 1, $"Patroni reported {sampler.MostLeaders} leaders at once");
        Assert.True(sampler.MostWritableNodes <= 1, $"{sampler.MostWritableNodes} nodes accepted writes at once");
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task FrozenPrimaryDemotesWhenItResumesWithNoSplitBrain()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();
        await using var sampler = SplitBrainSampler.Start(cluster);

        // When the primary freezes long enough for its lease to expire, and then resumes
        await cluster.InjectAsync(Fault.Pause, oldLeader);
        var newLeader = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a new leader while the old one is frozen");
        await cluster.RepairAsync(Fault.Pause, oldLeader);

        // Then the resumed node finds its lease gone and follows the new leader
        var healed = await cluster.WaitForHealthyAsync(settle);
        output.WriteLine($"Froze {oldLeader}; {newLeader.Leader!.Name} took over; samples {sampler.Samples}, " +
            $"most write routes {sampler.MostWriteRoutes}, most leaders {sampler.MostLeaders}, most writable nodes {sampler.MostWritableNodes} (for {sampler.LongestDoubleWritable.TotalSeconds:F1} s)");
        Assert.Equal(newLeader.Leader!.Name, healed.Leader!.Name);
        Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
        Assert.True(sampler.MostWriteRoutes <= 1, $"HAProxy routed writes to {sampler.MostWriteRoutes} servers at once: {string.Join("; ", sampler.DoubleRoutes)}");
        Assert.True(sampler.MostLeaders <= 1, $"Patroni reported {sampler.MostLeaders} leaders at once");

        // A frozen primary resumes still a primary, until its next Patroni loop demotes it: a window
        // no client can use (HAProxy's /primary check answers 503 once the lease is gone, asserted
        // above) and that only a watchdog would close, which containers here don't have.
        Assert.True(sampler.LongestDoubleWritable < TimeSpan.FromSeconds(5),
            $"the resumed old primary accepted writes for {sampler.LongestDoubleWritable.TotalSeconds:F1} s beside the new one");
    }

    /// <summary>A write only the new leader can make: a comment, replicated like any other change.</summary>
    private static async Task WriteMarkerAsync(IshChat.Cluster.Testcontainers.PatroniTestCluster cluster, string marker)
    {
        var leader = await cluster.LeaderAsync();
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(leader));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"COMMENT ON ROLE {ClusterRoles.Monitor} IS 'marker {marker}'", connection);
        await command.ExecuteNonQueryAsync();
    }
}
