using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>Losing a replica or etcd members, and restarting the routers: what clients notice.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class MembershipTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task LostReplicaLeavesReadsServedAndRejoinsWhenStartedAgain()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);
        var replica = cluster.Node(before.Members.First(m => m.IsStreamingReplica).Name);

        // When one replica is killed
        await cluster.InjectAsync(Fault.Kill, replica);

        // Then reads through the read-only entry keep landing on the remaining replicas, and the leader stays
        for (var i = 0; i < 10; i++)
        {
            Assert.True(await ReadsFromAReplicaAsync(cluster), "a read-only read did not land on a replica");
        }

        var during = await cluster.WaitForAsync(s => s.Leader is not null, settle, "a leader");
        Assert.Equal(before.Leader!.Name, during.Leader!.Name);

        // And started again, it streams once more
        await cluster.RepairAsync(Fault.Kill, replica);
        var healed = await cluster.WaitForHealthyAsync(settle);
        Assert.True(healed.Members.Single(m => m.Name == replica.Name).IsStreamingReplica);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task LosingOneEtcdMemberChangesNothingForClients()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);

        // When one of three etcd members is killed and kept down (not healed) for longer than the leader's lease
        var member = cluster.Etcd[^1];
        var heldDown = cluster.HoldDown(member);
        await cluster.InjectAsync(Fault.Kill, member);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(25);
            var failures = 0;
            while (DateTime.UtcNow < deadline)
            {
                failures += await ClusterProbes.TryWriteAsync(cluster) ? 0 : 1;
                await Task.Delay(500);
            }

            // Then every write succeeded and the leader never changed: two of three still make a quorum
            var after = await cluster.WaitForAsync(s => s.Leader is not null, settle, "a leader");
            Assert.Equal(0, failures);
            Assert.Equal(before.Leader!.Name, after.Leader!.Name);
        }
        finally
        {
            heldDown.Dispose();
            await cluster.RepairAsync(Fault.Kill, member);
        }

        await cluster.WaitForHealthyAsync(settle);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AfterEveryEtcdMemberRestartsTheLeaderKeepsItsKeyAndALostLeaderIsStillReplaced()
    {
        // Given a healthy cluster, Patroni and the host logged in to etcd as their own users (a member's tokens die with it)
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);

        // When each etcd member in turn is restarted, the next only once the last serves again
        foreach (var member in cluster.Etcd)
        {
            using (cluster.HoldDown(member))
            {
                await cluster.InjectAsync(Fault.Kill, member);
            }

            await cluster.RepairAsync(Fault.Kill, member);
            await Eventually.GetAsync(ct => ServesAsync(cluster, member, ct), serves => serves, settle, $"{member.Name} serving again");
        }

        // Then the leader never changed, and its key, read as the host's etcd user, still names it
        var after = await cluster.WaitForHealthyAsync(settle);
        Assert.Equal(before.Leader!.Name, after.Leader!.Name);
        Assert.Equal(before.Leader.Name, (await cluster.LeaderKey.ReadAsync(cluster.EtcdUrl(cluster.Etcd[0])))?.Holder);

        // And a killed leader is still replaced: Patroni writes the key as its user, the releaser deletes it as the host's
        var leader = cluster.Node(after.Leader.Name);
        await cluster.InjectAsync(Fault.Kill, leader);
        var replaced = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != leader.Name, settle, "a new leader");
        output.WriteLine($"{leader.Name} killed after the etcd restarts; {replaced.Leader!.Name} leads");
        Assert.True(await Eventually.GetAsync(ct => ClusterProbes.TryWriteAsync(cluster, ct), written => written, settle, "a write on the new leader"));
        await cluster.RepairAsync(Fault.Kill, leader);
        await cluster.WaitForHealthyAsync(settle);
    }

    private static async Task<bool> ServesAsync(PatroniTestCluster cluster, TestClusterNode member, CancellationToken cancellationToken)
    {
        try
        {
            using var health = await cluster.Https.GetAsync(new Uri(cluster.EtcdUrl(member), "/health"), cancellationToken);
            return health.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task LosingEtcdQuorumMakesThePrimaryReadOnlyUntilQuorumReturns()
    {
        // Given a healthy cluster (failsafe mode off, the default)
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);

        // When two of three etcd members die and stay down (not healed), leaving no quorum
        var lost = cluster.Etcd.Skip(1).ToArray();
        var heldDown = lost.Select(cluster.HoldDown).ToList();
        foreach (var member in lost)
        {
            await cluster.InjectAsync(Fault.Kill, member);
        }

        try
        {
            // Then the leader can't renew its lease and demotes itself before it expires: writes stop.
            // This is Patroni's safe choice: with no DCS nobody can prove it's the only primary.
            // (failsafe_mode would keep the primary writable while it can reach every member by REST.)
            var readOnlyAfter = await Eventually.GetAsync(async ct => !await ClusterProbes.TryWriteAsync(cluster, ct), stopped => stopped,
                TimeSpan.FromSeconds(60), "writes stopping without etcd quorum");
            Assert.True(readOnlyAfter);
            Assert.True(await ReadsFromAnyServerAsync(cluster), "reads should go on without etcd");
        }
        finally
        {
            // And once quorum returns, a leader is elected and writes resume
            heldDown.ForEach(h => h.Dispose());
            foreach (var member in lost)
            {
                await cluster.RepairAsync(Fault.Kill, member);
            }
        }

        var recovery = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(90));
        output.WriteLine($"etcd quorum restored; writes resumed after {recovery.TotalSeconds:F1} s");
        await cluster.WaitForHealthyAsync(settle);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task RestartedPgBouncerAndHAProxyServeClientsAgain()
    {
        // Given a healthy cluster and a client that can write
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        Assert.True(await ClusterProbes.TryWriteAsync(cluster));

        // When HAProxy and then PgBouncer restart
        foreach (var router in new[] { cluster.HAProxy, cluster.PgBouncer })
        {
            await cluster.InjectAsync(Fault.Stop, router);
            await cluster.RepairAsync(Fault.Stop, router);

            // Then clients write again within seconds
            var outage = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));
            output.WriteLine($"{router} restarted; writes after {outage.TotalSeconds:F1} s");
        }

        Assert.True(await ReadsFromAReplicaAsync(cluster));
    }

    private static async Task<bool> ReadsFromAReplicaAsync(PatroniTestCluster cluster) =>
        await Eventually.GetAsync(async ct =>
        {
            await using var connection = new NpgsqlConnection(cluster.PgBouncerConnectionString(database: PgBouncerDatabases.ReadOnly));
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }, inRecovery => inRecovery, TimeSpan.FromSeconds(30), "a read on a replica");

    private static async Task<bool> ReadsFromAnyServerAsync(PatroniTestCluster cluster)
    {
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(cluster.Nodes[0]));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return (int)(await command.ExecuteScalarAsync())! == 1;
    }
}
