using IshChat.Cluster.Chaos;
using IshChat.Cluster.Faults;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ChaosMatrixModelTests
{
    private static readonly ChaosTopology asynchronous = new(EtcdMembers: 3, PgBouncers: 2, HAProxies: 2, ApiReplicas: 2, SynchronousMode.Off);

    [Fact]
    public void TheFullMatrixKillsFreezesAndCutsOffEveryComponentAndOnlyKillsAndFreezesTheApiReplicas()
    {
        var rows = ChaosMatrix.Full(asynchronous);

        // leader, replica, 3 etcd, 2 PgBouncer, 2 HAProxy, Redis: 10 containers × 3 faults; 2 API processes × 2 faults
        Assert.Equal(10 * 3 + 2 * 2, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => r.Name).Distinct().Count());
        Assert.DoesNotContain(rows, r => r.Component.Tier == ChaosTier.Api && r.Fault == Fault.Partition);
        Assert.Contains(rows, r => r.Component.Name == "pgbouncer-1" && r.Fault == Fault.Pause);
    }

    [Fact]
    public void InQuorumModeTheSynchronousStandbyIsARoleOfItsOwn()
    {
        var rows = ChaosMatrix.Full(asynchronous with { SynchronousMode = SynchronousMode.Quorum });

        Assert.Equal(3, rows.Count(r => r.Component.Tier == ChaosTier.PatroniSynchronousStandby));
    }

    [Fact]
    public void InQuorumModeNoReplicaIsAsynchronousSoNoRowHitsOne()
    {
        // Patroni names every replica a quorum standby under ANY 1 of all; with one named standby the others stay asynchronous.
        Assert.DoesNotContain(ChaosMatrix.Full(asynchronous with { SynchronousMode = SynchronousMode.Quorum }), r => r.Component.Tier == ChaosTier.PatroniReplica);
        Assert.Equal(3, ChaosMatrix.Full(asynchronous with { SynchronousMode = SynchronousMode.On }).Count(r => r.Component.Tier == ChaosTier.PatroniReplica));
    }

    [Fact]
    public void EveryRepresentativeRowIsARowOfTheFullMatrix()
    {
        var full = ChaosMatrix.Full(asynchronous).Select(r => r.Name).ToHashSet();

        Assert.All(ChaosMatrix.Representative, r => Assert.Contains(r.Name, full));
    }

    [Fact]
    public void RowsAreChosenByAnyPartOfTheirName()
    {
        var chosen = ChaosMatrix.Select(ChaosMatrix.Full(asynchronous), "kill patroni leader, partition haproxy");

        Assert.Equal(["kill Patroni leader", "partition haproxy-0", "partition haproxy-1"], chosen.Select(r => r.Name));
    }

    [Fact]
    public void OnlyAnAsynchronousPrimaryLossMayLoseAcknowledgedPostsAndOnlyWithinTheFailoverLag()
    {
        var leaderKill = new ChaosRow(new ChaosComponent(ChaosTier.PatroniLeader), Fault.Kill);
        var redisKill = new ChaosRow(new ChaosComponent(ChaosTier.Redis), Fault.Kill);
        var twoLost = new ChaosOutcome(100, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), Lost: 2, 0, 0, 0);
        var asynchronousGoal = ChaosGoal.Of(new PatroniSettings());
        var quorumGoal = ChaosGoal.Of(new PatroniSettings { SynchronousMode = SynchronousMode.Quorum });

        Assert.Empty(asynchronousGoal.Misses(leaderKill, twoLost));
        Assert.NotEmpty(asynchronousGoal.Misses(redisKill, twoLost));
        Assert.NotEmpty(quorumGoal.Misses(leaderKill, twoLost));
        Assert.NotEmpty(asynchronousGoal.Misses(leaderKill, twoLost with { Lost = 1_000_000 }));
        Assert.NotEmpty(asynchronousGoal.Misses(leaderKill, twoLost with { MissedByCursorPolls = 1 }));
    }
}
