using System.Text.Json;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

/// <summary>The one rule for "healthy", read from documents shaped like Patroni 4.0's <c>GET /cluster</c>.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ClusterStateTests
{
    private static ClusterState Parse(params (string Name, string Role, string State)[] members) =>
        JsonSerializer.Deserialize<ClusterState>(JsonSerializer.Serialize(new
        {
            members = members.Select(m => new { name = m.Name, role = m.Role, state = m.State, timeline = 1, lag = 0 }),
        }))!;

    private static readonly PatroniSettings asynchronous = new();
    private static readonly PatroniSettings synchronous = new() { SynchronousMode = SynchronousMode.On };
    private static readonly PatroniSettings quorumOfTwo = new() { SynchronousMode = SynchronousMode.Quorum, SynchronousNodeCount = 2 };

    [Fact]
    public void AsynchronousClusterIsHealthyWithOneLeaderAndEveryReplicaStreaming()
    {
        var state = Parse(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"), ("pg-2", "replica", "streaming"));

        var health = state.Evaluate(3, asynchronous);

        Assert.True(health.IsHealthy, health.Summary);
        Assert.Equal("pg-0", state.Leader?.Name);
    }

    [Fact]
    public void AReplicaThatIsNotStreamingMakesTheClusterUnhealthy()
    {
        var state = Parse(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"), ("pg-2", "replica", "starting"));

        Assert.False(state.Evaluate(3, asynchronous).IsHealthy);
    }

    [Fact]
    public void AMissingMemberMakesTheClusterUnhealthy()
    {
        var state = Parse(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"));

        Assert.False(state.Evaluate(3, asynchronous).IsHealthy);
    }

    [Fact]
    public void SynchronousClusterIsHealthyOnlyOnceItsSyncStandbyIsNamed()
    {
        var unnamed = Parse(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"), ("pg-2", "replica", "streaming"));
        var named = Parse(("pg-0", "leader", "running"), ("pg-1", "sync_standby", "streaming"), ("pg-2", "replica", "streaming"));

        Assert.False(unnamed.Evaluate(3, synchronous).IsHealthy);
        Assert.True(named.Evaluate(3, synchronous).IsHealthy);
        // The same named standby counts as a streaming replica too.
        Assert.Equal(2, named.StreamingReplicas);
    }

    [Fact]
    public void QuorumClusterNeedsAsManyQuorumStandbysAsTheQuorumAsks()
    {
        var one = Parse(("pg-0", "leader", "running"), ("pg-1", "quorum_standby", "streaming"), ("pg-2", "replica", "streaming"), ("pg-3", "replica", "streaming"));
        var two = Parse(("pg-0", "leader", "running"), ("pg-1", "quorum_standby", "streaming"), ("pg-2", "quorum_standby", "streaming"), ("pg-3", "replica", "streaming"));

        Assert.False(one.Evaluate(4, quorumOfTwo).IsHealthy);
        Assert.True(two.Evaluate(4, quorumOfTwo).IsHealthy);
    }

    [Fact]
    public void SynchronousNodeCountAboveTheReplicasAsksOnlyForEveryReplica()
    {
        var state = Parse(("pg-0", "leader", "running"), ("pg-1", "quorum_standby", "streaming"));

        Assert.True(state.Evaluate(2, quorumOfTwo).IsHealthy);
    }

    [Fact]
    public void TwoLeadersMidElectionMeanNoLeader()
    {
        var state = Parse(("pg-0", "leader", "running"), ("pg-1", "leader", "running"), ("pg-2", "replica", "streaming"));

        Assert.Null(state.Leader);
        Assert.False(state.Evaluate(3, asynchronous).IsHealthy);
    }
}
