using System.Text.Json;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

/// <summary>What the dashboard's state column says about a node and the cluster, read from Patroni 4.0's <c>GET /cluster</c> shapes.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class StatusLabelTests
{
    private static readonly PatroniSettings asynchronous = new();
    private static readonly long failoverLimit = asynchronous.MaximumLagOnFailoverBytes;

    private static PatroniMember Member(string role, string state, object? lag = null, bool pendingRestart = false) =>
        JsonSerializer.Deserialize<PatroniMember>(JsonSerializer.Serialize(new
        {
            name = "pg-1", role, state, timeline = 3, lag, pending_restart = pendingRestart,
        }))!;

    [Fact]
    public void LeaderReadsLeader()
    {
        Assert.Equal(new StatusLabel("Leader", StatusTone.Good), StatusLabel.Of(Member("leader", "running"), failoverLimit));
    }

    [Fact]
    public void StreamingReplicaShowsItsLagInReadableUnits()
    {
        Assert.Equal(new StatusLabel("Replica · lag 0 B", StatusTone.Good), StatusLabel.Of(Member("replica", "streaming", 0), failoverLimit));
        Assert.Equal(new StatusLabel("Sync standby · lag 16 KiB", StatusTone.Good), StatusLabel.Of(Member("sync_standby", "streaming", 16 * 1024), failoverLimit));
    }

    [Fact]
    public void ReplicaTooFarBehindToBePromotedIsAWarning()
    {
        var label = StatusLabel.Of(Member("replica", "streaming", 3 * 1024 * 1024 + 300 * 1024), failoverLimit);

        Assert.Equal(new StatusLabel("Replica · lag 3.3 MiB", StatusTone.Warning), label);
    }

    [Fact]
    public void ReplicaNotStreamingSaysWhatItDoesInstead()
    {
        Assert.Equal(new StatusLabel("Replica · starting", StatusTone.Warning), StatusLabel.Of(Member("replica", "starting", "unknown"), failoverLimit));
    }

    [Fact]
    public void StoppedPostgresAndUnknownMemberAreBad()
    {
        Assert.Equal(new StatusLabel("Stopped", StatusTone.Bad), StatusLabel.Of(Member("replica", "stopped"), failoverLimit));
        Assert.Equal(new StatusLabel("Not in cluster", StatusTone.Bad), StatusLabel.Of(null, failoverLimit));
    }

    [Fact]
    public void PendingRestartIsShownBesideTheRole()
    {
        Assert.Equal(new StatusLabel("Leader · restart pending", StatusTone.Warning), StatusLabel.Of(Member("leader", "running", pendingRestart: true), failoverLimit));
    }

    [Fact]
    public void ClusterShowsItsLeaderAndHowManyReplicasStream()
    {
        var healthy = Cluster(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"), ("pg-2", "replica", "streaming"));
        var degraded = Cluster(("pg-0", "leader", "running"), ("pg-1", "replica", "streaming"), ("pg-2", "replica", "starting"));
        var leaderless = Cluster(("pg-1", "replica", "streaming"), ("pg-2", "replica", "streaming"));

        Assert.Equal(new StatusLabel("Leader pg-0 · 2 replicas", StatusTone.Good), StatusLabel.Of(healthy, 3, asynchronous));
        Assert.Equal(new StatusLabel("Leader pg-0 · 1 of 2 replicas", StatusTone.Warning), StatusLabel.Of(degraded, 3, asynchronous));
        Assert.Equal(new StatusLabel("No leader", StatusTone.Bad), StatusLabel.Of(leaderless, 3, asynchronous));
    }

    [Fact]
    public void ClusterCountsTheMembersPendingARestart()
    {
        var state = JsonSerializer.Deserialize<ClusterState>("""
            {"members": [{"name": "pg-0", "role": "leader", "state": "running", "pending_restart": true},
                         {"name": "pg-1", "role": "replica", "state": "streaming", "lag": 0, "pending_restart": true}]}
            """)!;

        Assert.Equal(new StatusLabel("Leader pg-0 · 1 replica · 2 restart pending", StatusTone.Warning), StatusLabel.Of(state, 2, asynchronous));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(50L * 1024 * 1024 * 1024, "50 GiB")]
    public void BytesReadAsPeopleWriteThem(long bytes, string expected) => Assert.Equal(expected, StatusLabel.Bytes(bytes));

    private static ClusterState Cluster(params (string Name, string Role, string State)[] members) =>
        JsonSerializer.Deserialize<ClusterState>(JsonSerializer.Serialize(new
        {
            members = members.Select(m => new { name = m.Name, role = m.Role, state = m.State, timeline = 1, lag = 0 }),
        }))!;
}
