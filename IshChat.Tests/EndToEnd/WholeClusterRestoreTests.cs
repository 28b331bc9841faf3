using System.Globalization;
using System.Net;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.Cluster.Backup;
using IshChat.Cluster.Docker;
using IshChat.Tests.Api;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// The whole AppHost cluster back at a point in time, by the documented command (docs/backup.md: Ctrl+C, remove the
/// cluster's volumes and keep the backups, start with <c>IshChat:Restore:*</c>): the new leader bootstraps from the
/// backup and the archive, the replicas clone from it, and routing and the chat API serve what was there at T.
/// </summary>
[Collection(AppHostRestartCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Restart)]
public sealed class WholeClusterRestoreTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(3);

    [Fact(Timeout = TestTimeouts.Restart)]
    public async Task TheClusterRestoredToATimeServesThroughTheApiWhatWasWrittenBeforeItAndNothingAfter()
    {
        // Given a full backup in the repository (the app host takes one once a replica streams)
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a healthy cluster");
        var leader = await fixture.ContainerIdAsync(before.Leader!.Name);
        var stanza = BackupStoreBuilderExtensions.Stanza(fixture.Cluster);
        await Eventually.GetAsync(
            ct => fixture.RecoveryWindowAsync(before.Leader!.Name, ct),
            window => window.Backups > 0, convergence, "a full backup taken by the app host");

        // and messages A written through the API, then time T, then messages B and the archive closed past them
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        await PostAsync(api, instance, session, device, "A1", "A2");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(1));
        await PostAsync(api, instance, session, device, "B1", "B2");
        var check = await DockerCli.ExecuteAsync(
            ["exec", leader, "pgbackrest", $"--stanza={stanza}", "--log-level-console=warn", "check"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(check.Succeeded, $"pgbackrest check failed: {check.Text}");

        // When the cluster is restored to T as docs/backup.md says
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var took = await fixture.RestoreAsync(
            new Dictionary<string, string>
            {
                [$"{BackupStoreBuilderExtensions.RestoreSection}:Type"] = "time",
                [$"{BackupStoreBuilderExtensions.RestoreSection}:Target"] = target.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture),
            },
            timeout.Token);
        output.WriteLine($"Restored to {target:O} and healthy after {took.TotalSeconds:F0} s");

        // Then it is a new leader and three streaming replicas on a newer timeline
        var after = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "one leader and three streaming replicas after the restore");
        Assert.True(after.Leader!.Timeline > before.Leader.Timeline, $"timeline {before.Leader.Timeline} → {after.Leader.Timeline}");

        // and the API, through PgBouncer and HAProxy, reads A and not B
        (http, adminKey) = await fixture.ChatApiAsync();
        api = new ChatApiClient(http, adminKey);
        var (page, _) = await api.ListMessagesAsync(instance, session);
        Assert.Equal(["A1", "A2"], page.Items.Select(m => m.Text).Order(StringComparer.Ordinal));

        // and it takes new writes
        await PostAsync(api, instance, session, device, "after the restore");
        output.WriteLine($"Leader {after.Leader.Name} on timeline {after.Leader.Timeline}; A present, B absent, writable");
    }

    private static async Task PostAsync(ChatApiClient api, TestInstance instance, Guid session, Guid device, params string[] texts)
    {
        foreach (var text in texts)
        {
            using var posted = await api.PostMessageAsync(instance, session, device, text);
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
        }
    }
}
