using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// A setting that only takes effect on a restart, applied to the running cluster by the dashboard's rolling restart
/// while clients post through the chat API: no client sees an error and every acknowledged message is stored.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class RollingRestartTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(3);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task RollingRestartAppliesARestartRequiringSettingWithoutAFailedPost()
    {
        // Given a settled cluster, writers posting through the API, and shared_buffers changed (a restart-only setting)
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");
        var sharedBuffers = await ShowOnLeaderAsync("shared_buffers") == "144MB" ? "128MB" : "144MB";
        var (http, adminKey) = await fixture.ChatApiAsync();
        await using var load = await PostingLoad.StartAsync(new ChatApiClient(http, adminKey), Writers);
        load.Phase = "setting";
        await fixture.SetPostgresParametersAsync(new Dictionary<string, string> { ["shared_buffers"] = sharedBuffers });
        await Eventually.GetAsync(fixture.PatroniClusterAsync, s => s.Members.All(m => m.PendingRestart), TimeSpan.FromMinutes(1), "every node pending a restart");
        var shown = await fixture.App.ResourceNotifications.WaitForResourceAsync(before.Leader!.Name, e => e.Snapshot.State?.Text?.EndsWith("restart pending", StringComparison.Ordinal) == true)
            .WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{before.Leader!.Name} on the dashboard: {shown.Snapshot.State?.Text}");

        // When the dashboard's rolling restart runs
        load.Phase = "rolling restart";
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, PatroniCommands.RollingRestart);
        Assert.True(result.Success, result.Message);
        var after = await Eventually.GetAsync(fixture.PatroniClusterAsync, s => fixture.IsHealthy(s) && s.Members.All(m => !m.PendingRestart), convergence, "every node restarted");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();

        // Then the leader changed once, runs with the new setting, and no client saw an error or lost a message
        var check = await load.CheckAsync();
        output.WriteLine($"rolling restart (shared_buffers → {sharedBuffers}), leader {before.Leader!.Name} → {after.Leader!.Name}: {check.Summary}");
        Assert.Equal(sharedBuffers, await ShowOnLeaderAsync("shared_buffers"));
        Assert.NotEqual(before.Leader!.Name, after.Leader!.Name);
        Assert.True(load.Acknowledged.Count > 50, $"too few posts to judge ({load.Acknowledged.Count})");
        Assert.Empty(load.Errors);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicated);
        Assert.Equal(0, check.ReusedSequenceNumbers);
        Assert.Equal(0, check.MissedByCursorPolls);
    }

    private async Task<string> ShowOnLeaderAsync(string setting)
    {
        await using var connection = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
