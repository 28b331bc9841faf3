using IshChat.AppHost.Hosting.Patroni;
using IshChat.Cluster.Docker;
using IshChat.Cluster.Images;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// A rolling update on the running cluster while clients post through the chat API: a setting that only takes effect on a
/// restart and a new node image at once, applied by the dashboard's <b>Update node image</b>. Every node's container is
/// recreated on the new image in the rolling restart's order; no client sees an error and every acknowledged message is stored.
/// (The settings-only path, Patroni restarts without recreating, runs under the Jepsen-style writers in ClusterRollingRestartTests.)
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class RollingRestartTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(3);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task RollingUpdateRecreatesEveryNodeOnANewImageAndAppliesARestartRequiringSettingWithoutAFailedPost()
    {
        // Given a settled cluster, writers posting through the API, shared_buffers changed (a restart-only setting),
        // and a new node image tagged as the candidate (the running image plus a label: what a rebuild from newer packages is)
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");
        var sharedBuffers = await ShowOnLeaderAsync("shared_buffers") == "144MB" ? "128MB" : "144MB";
        var reference = ClusterImages.Patroni.Reference(RepositoryLayout.Current);
        var oldImage = await ImageReplacement.ImageIdAsync(reference);
        await using var newImage = await LabelledImage.BuildAsync(reference);
        await DockerCli.RunAsync(["image", "tag", newImage.Id, ImageReplacement.CandidateOf(reference)]);
        var (http, adminKey) = await fixture.ChatApiAsync();
        await using var load = await PostingLoad.StartAsync(new ChatApiClient(http, adminKey), Writers);
        load.Phase = "setting";
        await fixture.SetPostgresParametersAsync(new Dictionary<string, string> { ["shared_buffers"] = sharedBuffers });
        await Eventually.GetAsync(fixture.PatroniClusterAsync, s => s.Members.All(m => m.PendingRestart), TimeSpan.FromMinutes(1), "every node pending a restart");
        var shown = await fixture.App.ResourceNotifications.WaitForResourceAsync(before.Leader!.Name, e => e.Snapshot.State?.Text?.EndsWith("restart pending", StringComparison.Ordinal) == true)
            .WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{before.Leader!.Name} on the dashboard: {shown.Snapshot.State?.Text}");

        // When the dashboard's node image update runs
        load.Phase = "rolling update";
        var updating = System.Diagnostics.Stopwatch.StartNew();
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, PatroniCommands.UpdateNodeImage);
        Assert.True(result.Success, result.Message);
        output.WriteLine($"Update node image: {updating.Elapsed.TotalSeconds:F0} s for {fixture.Cluster.ServingNodes.Count} nodes");
        var after = await Eventually.GetAsync(fixture.PatroniClusterAsync, s => fixture.IsHealthy(s) && s.Members.All(m => !m.PendingRestart), convergence, "every node updated");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();

        // Then every node runs the new image and the new setting, the old image is kept for the way back,
        // the leader changed once, and no client saw an error or lost a message
        var check = await load.CheckAsync();
        output.WriteLine($"rolling update (new image, shared_buffers → {sharedBuffers}), leader {before.Leader!.Name} → {after.Leader!.Name}: {check.Summary}");
        foreach (var node in fixture.Cluster.ServingNodes)
        {
            Assert.Equal(newImage.Id, await ImageReplacement.ContainerImageIdAsync(await fixture.ContainerIdAsync(node.Name)));
        }

        Assert.Equal(oldImage, await ImageReplacement.ImageIdAsync(ImageReplacement.PreviousOf(reference)));
        Assert.False(await DockerCli.ImageExistsAsync(ImageReplacement.CandidateOf(reference)));
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
