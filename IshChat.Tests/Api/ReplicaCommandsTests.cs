using System.Collections.Concurrent;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using IshChat.Tests.Monitoring;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// The dashboard's Add replica and Remove replica on the AppHost while clients post and read through the chat API: the
/// spare starts, streams, is scraped by Prometheus, and leaves again with its slot; no client sees an error.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class ReplicaCommandsTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(3);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AddReplicaAndRemoveReplicaChangeTheRunningClusterWithoutAFailedRequest()
    {
        // Given a settled cluster running its configured replicas, writers posting and readers listing through the API
        await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");
        var spare = fixture.Cluster.Nodes.First(n => n.IsSpare);
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        await using var load = await PostingLoad.StartAsync(api, Writers);
        var (instance, _, session) = await api.CreateConversationAsync();
        using var stopReading = new CancellationTokenSource();
        var readErrors = new ConcurrentQueue<string>();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!stopReading.IsCancellationRequested)
            {
                try
                {
                    await api.ListMessagesAsync(instance, session, "?limit=20");
                    Interlocked.Increment(ref reads);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException)
                {
                    readErrors.Enqueue($"{load.Phase}: {ex.Message}");
                }
            }
        });

        // When the dashboard adds a replica
        load.Phase = "add replica";
        var added = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, ReplicaCommands.AddReplica);
        Assert.True(added.Success, added.Message);

        // Then the spare streams, the cluster counts it, and Prometheus scrapes it
        var grown = await Eventually.GetAsync(fixture.PatroniClusterAsync, s => fixture.IsHealthy(s) && s.Members.Any(m => m.Name == spare.Name && m.IsStreamingReplica),
            convergence, $"{spare.Name} streaming");
        Assert.Equal(fixture.Cluster.ConfiguredReplicas + 1, grown.StreamingReplicas);
        using (var prometheus = fixture.PrometheusApi())
        {
            await Eventually.GetAsync(ct => prometheus.QueryAsync($"up{{job=\"patroni\",instance=\"{spare.Name}\"}} == 1", ct), r => r.Count == 1,
                TimeSpan.FromMinutes(1), $"Prometheus scraping {spare.Name}");
        }

        // When it is removed again, and once more (below the configured replicas)
        load.Phase = "remove replica";
        var removed = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, ReplicaCommands.RemoveReplica);
        Assert.True(removed.Success, removed.Message);
        var refused = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, ReplicaCommands.RemoveReplica);
        load.Phase = "after";
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.StopAsync();
        await stopReading.CancelAsync();
        await reader;

        // Then it is gone with its slot, the second removal was refused, and no client saw an error or lost a message
        var after = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "the configured cluster");
        Assert.DoesNotContain(after.Members, m => m.Name == spare.Name);
        Assert.Equal(0L, await SlotsNamedAsync(ReplicaMembership.SlotNameOf(spare.Name)));
        Assert.False(refused.Success);
        Assert.Contains("keeps at least", refused.Message, StringComparison.Ordinal);
        var check = await load.CheckAsync();
        output.WriteLine($"add and remove {spare.Name}: {check.Summary}; reads {reads}, failed {readErrors.Count}; longest write pause {load.LongestPause.TotalSeconds:F1} s");
        Assert.True(load.Acknowledged.Count > 50, $"too few posts to judge ({load.Acknowledged.Count})");
        Assert.True(reads > 50, $"too few reads to judge ({reads})");
        Assert.Empty(load.Errors);
        Assert.Empty(readErrors);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicated);
        Assert.Equal(0, check.ReusedSequenceNumbers);
        Assert.Equal(0, check.MissedByCursorPolls);
    }

    private async Task<long> SlotsNamedAsync(string slot)
    {
        await using var connection = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
