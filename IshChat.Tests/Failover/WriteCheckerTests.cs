using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// Jepsen-style: writers run while the primary is killed again and again; afterwards every
/// acknowledged write must be there exactly once. CI does 3 kills per mode; the failover
/// benchmark (bench/failover.sh) does 10.
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class WriteCheckerTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private const int Kills = 3;

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AsynchronousReplicationLosesAtMostWhatMaximumLagOnFailoverAllowsAndDuplicatesNothing()
    {
        // Given the shared asynchronous cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        var checker = new WriteChecker(cluster);
        await checker.PrepareAsync();

        // When the primary is killed repeatedly under write load
        var report = await checker.RunAsync(ct => KillPrimaryRepeatedlyAsync(cluster, Kills, ct));

        // Then nothing is duplicated, and what was lost fits in maximum_lag_on_failover
        output.WriteLine($"async, {Kills} primary kills: {report}");
        Assert.True(report.Acknowledged > 100, $"too few writes to judge: {report}");
        Assert.Equal(0, report.Duplicated);
        Assert.True(report.Lost * Math.Max(report.WalBytesPerWrite, 1) <= cluster.Options.Patroni.MaximumLagOnFailoverBytes, report.ToString());
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task SynchronousReplicationLosesNoAcknowledgedWrite()
    {
        // Given a cluster where every commit waits for a synchronous standby
        await using var cluster = await PatroniTestCluster.StartAsync(
            new TestClusterOptions { Replicas = 2, Patroni = new PatroniSettings { SynchronousMode = SynchronousMode.On } },
            fixture.Logger, CancellationToken.None);
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));
        var checker = new WriteChecker(cluster);
        await checker.PrepareAsync();

        // When the primary is killed repeatedly under write load
        var report = await checker.RunAsync(ct => KillPrimaryRepeatedlyAsync(cluster, Kills, ct));

        // Then every acknowledged write survived, exactly once
        output.WriteLine($"sync, {Kills} primary kills: {report}");
        Assert.True(report.Acknowledged > 100, $"too few writes to judge: {report}");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
    }

    private async Task KillPrimaryRepeatedlyAsync(PatroniTestCluster cluster, int kills, CancellationToken cancellationToken)
    {
        for (var i = 0; i < kills; i++)
        {
            await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2), cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var leader = await cluster.LeaderAsync(cancellationToken);
            await cluster.InjectAsync(Fault.Kill, leader, cancellationToken);
            var outage = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60), cancellationToken);
            output.WriteLine($"kill {i + 1}: {leader} → writes after {outage.TotalSeconds:F1} s");
            await cluster.RepairAsync(Fault.Kill, leader, cancellationToken);
        }
    }
}
