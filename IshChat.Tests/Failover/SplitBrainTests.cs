using System.Diagnostics;
using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>A primary that is alive but unreachable or frozen is fenced, and never leads alongside a new one.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class SplitBrainTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task PartitionedPrimaryIsFencedAndRejoinsAsReplicaWithoutDivergence()
    {
        // Given a healthy cluster with a row everyone has
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();
        var fencesBefore = cluster.Fencer!.Fences;
        await using var sampler = SplitBrainSampler.Start(cluster);

        // When the primary is cut off from the network
        var stopwatch = Stopwatch.StartNew();
        await cluster.InjectAsync(Fault.Partition, oldLeader);
        var newLeader = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a leader on the majority side");
        var writable = stopwatch.Elapsed + await ClusterProbes.TimeUntilWritableAsync(cluster, settle);

        // Then it was fenced (silent to the REST probe and to etcd: killed, its key released) and takes no writes,
        // though the supervisor starts it again (still cut off, it finds no etcd and starts no PostgreSQL)
        Assert.Equal(fencesBefore + 1, cluster.Fencer.Fences);
        await Assert.ThrowsAnyAsync<Exception>(() => cluster.PsqlInsideAsync(oldLeader, "CREATE TABLE split_brain_probe (id int)"));

        // And after reconnecting it rejoins as a replica of the new leader, with the new leader's data
        await cluster.RepairAsync(Fault.Partition, oldLeader);
        var marker = Guid.NewGuid().ToString("N");
        await WriteMarkerAsync(cluster, marker);
        var healed = await cluster.WaitForHealthyAsync(settle);
        var replicated = await Eventually.GetAsync(
            ct => cluster.PsqlInsideAsync(oldLeader, $"SELECT count(*) FROM pg_catalog.pg_shdescription WHERE description = 'marker {marker}'", ct),
            r => r == "1", TimeSpan.FromSeconds(60), "the new leader's write replayed on the rejoined node");

        output.WriteLine($"Partitioned {oldLeader}; fenced; {newLeader.Leader!.Name} took over; first write {writable.TotalSeconds:F1} s after the partition; " +
            $"split-brain samples {sampler.Samples}, most write routes {sampler.MostWriteRoutes}, most leaders {sampler.MostLeaders}, most writable nodes {sampler.MostWritableNodes}");
        Assert.Equal("1", replicated);
        Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
        AssertNeverTwoPrimaries(sampler);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task FrozenPrimaryIsFencedAndRejoinsAsReplicaWithNoSplitBrain()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();
        var fencesBefore = cluster.Fencer!.Fences;
        await using var sampler = SplitBrainSampler.Start(cluster);

        // When the primary freezes
        var stopwatch = Stopwatch.StartNew();
        await cluster.InjectAsync(Fault.Pause, oldLeader);
        try
        {
            var newLeader = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a new leader while the old one is frozen");
            var writable = stopwatch.Elapsed + await ClusterProbes.TimeUntilWritableAsync(cluster, settle);

            // Then it is fenced (killed while frozen: it never runs again as a primary), started again by the
            // supervisor, and follows the new leader
            var healed = await cluster.WaitForHealthyAsync(settle);
            output.WriteLine($"Froze {oldLeader}; fenced; {newLeader.Leader!.Name} took over; first write {writable.TotalSeconds:F1} s after the freeze; " +
                $"samples {sampler.Samples}, most write routes {sampler.MostWriteRoutes}, most leaders {sampler.MostLeaders}, most writable nodes {sampler.MostWritableNodes}");
            Assert.Equal(fencesBefore + 1, cluster.Fencer.Fences);
            Assert.Equal(newLeader.Leader!.Name, healed.Leader!.Name);
            Assert.True(healed.Members.Single(m => m.Name == oldLeader.Name).IsStreamingReplica);
            AssertNeverTwoPrimaries(sampler);
        }
        finally
        {
            // Not fenced (the test failed): unfreeze it, so the next test finds a cluster.
            await DockerCli.ExecuteAsync(["unpause", oldLeader.ContainerId]);
        }
    }

    private static void AssertNeverTwoPrimaries(SplitBrainSampler sampler)
    {
        Assert.True(sampler.MostWriteRoutes <= 1, $"HAProxy routed writes to {sampler.MostWriteRoutes} servers at once: {string.Join("; ", sampler.DoubleRoutes)}");
        Assert.True(sampler.MostLeaders <= 1, $"Patroni reported {sampler.MostLeaders} leaders at once");
        Assert.True(sampler.MostWritableNodes <= 1, $"{sampler.MostWritableNodes} nodes accepted writes at once");
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
