using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// The rolling restart (<see cref="RollingRestart"/>, the procedure behind the dashboard command) on the shared
/// Testcontainers cluster under the Jepsen-style writers: a restart-only setting reaches every node, nothing
/// acknowledged is lost, nothing is written twice, and writes pause only around the switchover.
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class ClusterRollingRestartTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task RollingRestartAppliesARestartOnlySettingToEveryNodeWithoutLosingAWrite()
    {
        // Given a healthy cluster under write load, and a setting that only a restart applies
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        var sharedBuffers = await ShowAsync(cluster.LeaderConnectionString(ClusterRoles.Superuser), "shared_buffers") == "144MB" ? "128MB" : "144MB";
        var checker = new WriteChecker(cluster);
        await checker.PrepareAsync();
        RollingRestartReport? restart = null;

        // When the rolling restart sets it and restarts the nodes in the safe order
        var report = await checker.RunAsync(async ct =>
        {
            restart = await new RollingRestart(cluster.Rest, () => cluster.Nodes.Select(n => (n.Name, (Uri?)cluster.RestUrl(n))), cluster.Options.Patroni, fixture.Logger)
                .RunAsync(new Dictionary<string, string> { ["shared_buffers"] = sharedBuffers }, ct);
        });

        // Then every node runs with it, leadership moved once, and every acknowledged write is there exactly once
        output.WriteLine($"rolling restart (shared_buffers → {sharedBuffers}): {restart}");
        output.WriteLine($"writes: {report}");
        var after = await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        Assert.All(after.Members, m => Assert.False(m.PendingRestart, $"{m.Name} still pending a restart"));
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(sharedBuffers, await ShowAsync(cluster.NodeConnectionString(node), "shared_buffers"));
        }

        Assert.NotEqual(before.Leader!.Name, after.Leader!.Name);
        Assert.Equal(cluster.Nodes.Count - 1, restart!.Steps.Count(s => s.Description.StartsWith("restart replica", StringComparison.Ordinal)));
        Assert.Single(restart.Steps, s => s.Description.StartsWith("switch over", StringComparison.Ordinal));
        Assert.True(report.Acknowledged > 100, $"too few writes to judge: {report}");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
    }

    private static async Task<string> ShowAsync(string connectionString, string setting)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
