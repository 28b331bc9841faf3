using System.Collections.Concurrent;
using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// Replicas added and removed while the cluster serves (<see cref="ReplicaMembership"/>, the procedure behind the
/// dashboard's Add replica / Remove replica), on the shared Testcontainers cluster's spare slot: writers (no retries)
/// through PgBouncer and readers through HAProxy's read-only entry see no error, and nothing acknowledged is lost.
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class ReplicaMembershipTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AddedReplicaClonesFromAReplicaTakesReadsAndLeavesWithItsSlotWithoutAFailedRequest()
    {
        // Given a healthy cluster with a spare slot, under writers and readers
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);
        var replicas = cluster.Replicas;
        var checker = new WriteChecker(cluster);
        await checker.PrepareAsync();
        using var readers = new Readers(cluster);
        ReplicaChangeReport? added = null, removed = null;
        string? addedAddress = null;
        var readsOnAdded = 0L;

        // When a replica is added, serves reads for a while, and is removed again
        var writes = await checker.RunAsync(async ct =>
        {
            added = await replicas.AddAsync(ct);
            addedAddress = await cluster.Node(added.Node).ContainerAddressAsync(ct);
            readsOnAdded = await Eventually.GetAsync(_ => Task.FromResult(readers.ReadsFrom(addedAddress)), n => n >= 10,
                TimeSpan.FromSeconds(60), $"reads answered by {added.Node}", ct);
            removed = await replicas.RemoveAsync(cancellationToken: ct);
            // Reads go on without it for a moment: nothing still points at the removed node.
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
        });
        await readers.StopAsync();

        // Then the new node cloned from a replica, streamed and took reads; removed, it and its slot are gone
        output.WriteLine($"{added}");
        output.WriteLine($"{removed}");
        output.WriteLine($"writes: {writes}");
        output.WriteLine($"reads: {readers}; {readsOnAdded}+ on {added!.Node}");
        Assert.Equal(cluster.NodeSlots[^1], added.Node);
        Assert.StartsWith("replica ", added.ClonedFrom);
        Assert.Equal(added.Node, removed!.Node);
        var after = await cluster.WaitForHealthyAsync(settle);
        Assert.DoesNotContain(after.Members, m => m.Name == added.Node);
        Assert.Equal(before.Leader!.Name, after.Leader!.Name);
        Assert.Empty(await replicas.NodesHoldingSlotAsync(ReplicaMembership.SlotNameOf(added.Node)));

        // And no client saw an error: every write acknowledged and present, every read answered
        Assert.True(writes.Acknowledged > 100, $"too few writes to judge: {writes}");
        Assert.Equal(0, writes.Failed);
        Assert.Equal(0, writes.Lost);
        Assert.True(readers.Answered > 100, $"too few reads to judge: {readers}");
        Assert.Empty(readers.Errors);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task ASpareThatIsNotStartedAgainHasItsSlotDroppedWhenTheClusterConverges()
    {
        // Given a replica added in the spare slot, then stopped outside the procedure (as when the AppHost starts without it)
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var replicas = cluster.Replicas;
        var added = await replicas.AddAsync();
        var spare = cluster.Node(added.Node);
        var slot = ReplicaMembership.SlotNameOf(spare.Name);
        var heldDown = cluster.HoldDown(spare);
        await cluster.InjectAsync(Fault.Stop, spare);
        try
        {
            // When the cluster converges on what runs
            var dropped = await replicas.DropSlotsOfAbsentNodesAsync();

            // Then the spare's slot is gone everywhere, and nothing else was touched
            Assert.Equal([slot], dropped);
            Assert.Empty(await replicas.NodesHoldingSlotAsync(slot));
            Assert.NotEmpty(await replicas.NodesHoldingSlotAsync(ReplicaMembership.SlotNameOf(cluster.Nodes[1].Name)));
        }
        finally
        {
            // And started again on its old data, it rejoins and can be removed the usual way
            heldDown.Dispose();
            await cluster.RepairAsync(Fault.Stop, spare);
            await cluster.WaitForHealthyAsync(settle);
            await replicas.RemoveAsync(spare.Name);
        }
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task RemovingTheLeaderOrGoingBelowTheConfiguredReplicasIsRefused()
    {
        // Given a healthy cluster running exactly its configured replicas
        var cluster = fixture.Cluster;
        var state = await cluster.WaitForHealthyAsync(settle);

        // When asked to remove the leader, or any replica
        var leader = await Assert.ThrowsAsync<ReplicaChangeRefusedException>(() => cluster.Replicas.RemoveAsync(state.Leader!.Name));
        var belowMinimum = await Assert.ThrowsAsync<ReplicaChangeRefusedException>(
            () => cluster.Replicas.RemoveAsync(state.Members.First(m => m.IsStreamingReplica).Name));

        // Then both are refused with the reason, and nothing changed
        Assert.Contains("is the leader: switch over first", leader.Message, StringComparison.Ordinal);
        Assert.Contains($"keeps at least {cluster.Options.Replicas} replicas", belowMinimum.Message, StringComparison.Ordinal);
        Assert.Equal(state.Members.Count, (await cluster.WaitForHealthyAsync(settle)).Members.Count);
    }

    /// <summary>Two readers through HAProxy's read-only port, a new session per read (no pool), counting who answered.</summary>
    private sealed class Readers : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly ConcurrentDictionary<string, long> answeredBy = new();
        private readonly Task[] tasks;

        public Readers(PatroniTestCluster cluster) =>
            tasks = [.. Enumerable.Range(0, 2).Select(_ => Task.Run(() => ReadUntilStoppedAsync(cluster.ReplicaConnectionString())))];

        public ConcurrentBag<string> Errors { get; } = [];

        public long Answered => answeredBy.Values.Sum();

        public long ReadsFrom(string address) => answeredBy.GetValueOrDefault(address);

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await Task.WhenAll(tasks);
        }

        public override string ToString() =>
            $"{Answered} answered ({string.Join(", ", answeredBy.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}: {a.Value}"))}), {Errors.Count} failed" +
            (Errors.IsEmpty ? "" : $": {Errors.First()}");

        private async Task ReadUntilStoppedAsync(string connectionString)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(connectionString);
                    await connection.OpenAsync(CancellationToken.None);
                    await using var read = new NpgsqlCommand("SELECT host(inet_server_addr()), count(*) FROM jepsen.writes", connection);
                    await using var reader = await read.ExecuteReaderAsync(CancellationToken.None);
                    await reader.ReadAsync(CancellationToken.None);
                    answeredBy.AddOrUpdate(reader.GetString(0), 1, (_, n) => n + 1);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    Errors.Add(ex.Message);
                }

                await Task.Delay(20, CancellationToken.None);
            }
        }

        public void Dispose() => stop.Dispose();
    }
}
