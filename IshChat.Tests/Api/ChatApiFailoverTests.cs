using IshChat.AppHost.Hosting.FaultInjection;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// The Jepsen-style check through the chat API: clients post through both API replicas while the
/// primary is killed and switched over; every acknowledged message must be stored exactly once.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class ChatApiFailoverTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task MessagesPostedThroughPrimaryKillsAndASwitchoverAreStoredExactlyOnce()
    {
        // Given writers posting messages, each with its own client message id
        var (http, adminKey) = await fixture.ChatApiAsync();
        await using var load = await PostingLoad.StartAsync(new ChatApiClient(http, adminKey), Writers);
        load.Phase = "kills";

        // When the primary is killed twice (nobody starts the killed node: the AppHost heals it), then switched over
        for (var kill = 0; kill < 2; kill++)
        {
            var leader = await SettledLeaderAsync();
            var killed = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, FaultInjectionCommands.KillPrimary);
            Assert.True(killed.Success, killed.Message);
            await Eventually.GetAsync(fixture.PatroniClusterAsync, s => s.Leader is { } l && l.Name != leader, TimeSpan.FromMinutes(1), "a new leader");
        }

        await SettledLeaderAsync();
        var errorsBeforeSwitchover = load.Errors.Count;
        load.Phase = "switchover";
        var switched = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, PatroniCommands.Switchover);
        Assert.True(switched.Success, switched.Message);
        await SettledLeaderAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(errorsBeforeSwitchover, load.Errors.Count);
        await load.StopAsync();

        // Then every acknowledged message is stored, none twice, no number names two messages, a client polling after its
        // cursor saw every stored one (even after a kill lost commits), and the switchover cost no client an error
        var check = await load.CheckAsync();
        output.WriteLine($"through the API: {check.Summary}");
        Assert.True(load.Acknowledged.Count > 50, $"too few posts to judge ({load.Acknowledged.Count})");
        Assert.Equal(0, check.Duplicated);
        Assert.Equal(0, check.ReusedSequenceNumbers);
        Assert.Equal(0, check.MissedByCursorPolls);
        Assert.DoesNotContain(load.Errors, e => e.StartsWith("switchover", StringComparison.Ordinal));
        // Asynchronous replication: a kill may lose the last commits the replicas had not received;
        // the failover suite bounds that by maximum_lag_on_failover. Here it must stay a handful.
        Assert.True(check.Lost <= Writers * 2, $"{check.Lost} acknowledged messages lost");
    }

    private async Task<string> SettledLeaderAsync()
    {
        var settled = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, fixture.IsHealthy,
            TimeSpan.FromMinutes(3), "a settled cluster");
        await Eventually.GetAsync(_ => Task.FromResult(fixture.Cluster.LastObservedState?.Leader?.Name), n => n == settled.Leader!.Name,
            TimeSpan.FromSeconds(30), "the dashboard monitor seeing the leader");
        return settled.Leader!.Name;
    }
}
