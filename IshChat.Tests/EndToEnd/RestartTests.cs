using System.Net;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.Cluster.Docker;
using IshChat.Tests.Api;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// Ctrl+C, then <c>eng/run.sh</c> again: the AppHost on volumes of its own (a prefix per test run, removed afterwards)
/// is stopped and started, and the same cluster comes back with everything written to it, and with the AppHost's
/// Patroni settings even where etcd's copy had drifted from them.
/// </summary>
[Collection(AppHostRestartCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Restart)]
public sealed class RestartTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(3);

    [Fact(Timeout = TestTimeouts.Restart)]
    public async Task ARestartedAppHostHasEveryMessageTheSameSystemAndAcceptsChangedPasswords()
    {
        // Given an instance, a session and messages written through the API, and the cluster's system identifier
        var api = await ChatApiAsync();
        var (instance, device, session) = await api.CreateConversationAsync();
        string[] texts = ["before the restart 1", "before the restart 2", "before the restart 3"];
        foreach (var text in texts)
        {
            using var posted = await api.PostMessageAsync(instance, session, device, text);
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
        }

        var systemBefore = await SystemIdentifiersAsync();
        Assert.Single(systemBefore.Distinct());
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a healthy cluster before the restart");
        var timelineBefore = before.Members.Single(m => m.IsLeader).Timeline;

        // and etcd's copy of the dynamic configuration drifted from the AppHost's settings, as on volumes bootstrapped
        // under another synchronous mode (Patroni reads its bootstrap settings only when it initialises a cluster)
        await fixture.SetDynamicConfigurationAsync(new Dictionary<string, object> { ["synchronous_mode"] = false, ["maximum_lag_on_failover"] = 2097152 });
        Assert.Equal(2, DynamicConfiguration.Drift(await fixture.DynamicConfigurationAsync(), fixture.Cluster.Settings).Count);

        // When the AppHost stops and starts again on its volumes, with the app's, replication's and Patroni's etcd passwords
        // changed in the meantime (user secrets regenerated, a secret rotated) while the volumes hold the old ones
        var changed = new Dictionary<string, string>
        {
            [fixture.Cluster.Secret(ClusterSecret.AppPassword).Name] = $"changed{Guid.NewGuid():N}",
            [fixture.Cluster.Secret(ClusterSecret.ReplicationPassword).Name] = $"changed{Guid.NewGuid():N}",
            // etcd already requires authentication on these volumes: the start sets the new password before any node logs in.
            [fixture.Cluster.Secret(ClusterSecret.EtcdPatroniPassword).Name] = $"changed{Guid.NewGuid():N}",
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var restart = await fixture.RestartAsync(changed, timeout.Token);
        output.WriteLine($"Stopped and healthy again after {restart.TotalSeconds:F0} s");

        // Then it is the same PostgreSQL system on every node (no new bootstrap), with one leader and three streaming replicas
        var state = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "one leader and three streaming replicas after the restart");
        Assert.Single(state.Members, m => m.IsLeader);
        // and nobody promoted itself on the way out (the replicas stop first, the leader last): the only new
        // timeline is the one of the election at start, where even the old leader starts read-only and promotes
        var timelineAfter = state.Members.Single(m => m.IsLeader).Timeline;
        output.WriteLine($"Leader {before.Leader!.Name} on timeline {timelineBefore} before, {state.Leader!.Name} on {timelineAfter} after");
        Assert.InRange(timelineAfter!.Value, timelineBefore!.Value, timelineBefore.Value + 1);
        Assert.Equal(systemBefore.Distinct(), (await SystemIdentifiersAsync()).Distinct());
        await using (var monitor = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite)))
        {
            await monitor.OpenAsync();
            var streaming = await Eventually.GetAsync(async ct =>
            {
                await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", monitor);
                return (long)(await command.ExecuteScalarAsync(ct))!;
            }, n => n == fixture.Cluster.ServingNodes.Count - 1, convergence, "every replica streaming with the changed replication password");
            Assert.Equal(fixture.Cluster.ServingNodes.Count - 1, streaming);
        }

        // and the AppHost wrote its settings back over the drifted dynamic configuration (once a leader was elected)
        var drift = await Eventually.GetAsync(
            async _ => DynamicConfiguration.Drift(await fixture.DynamicConfigurationAsync(), fixture.Cluster.Settings),
            d => d.Count == 0, convergence, "the dynamic configuration back at the AppHost's settings");
        Assert.Empty(drift);

        // and the API, connecting with the changed app password, reads every message through the old instance's key
        api = await ChatApiAsync();
        var (page, _) = await api.ListMessagesAsync(instance, session);
        Assert.Equal(texts, page.Items.Select(m => m.Text).Order(StringComparer.Ordinal));
        using (var after = await api.PostMessageAsync(instance, session, device, "after the restart"))
        {
            await ChatApiClient.EnsureAsync(after, HttpStatusCode.Created);
        }

        // and the leader archives into the same, stable stanza (pgBackRest refuses a stanza of another system)
        var stanza = BackupStoreBuilderExtensions.Stanza(fixture.Cluster);
        var check = await DockerCli.ExecuteAsync(
            ["exec", await fixture.ContainerIdAsync(state.Leader!.Name), "pgbackrest", $"--stanza={stanza}", "--log-level-console=warn", "check"],
            timeout: TimeSpan.FromMinutes(3));
        Assert.True(check.Succeeded, $"pgbackrest check on stanza {stanza} failed: {check.Text}");
        output.WriteLine($"Leader {state.Leader.Name}, system {systemBefore[0]}, stanza {stanza} archiving");
    }

    private async Task<ChatApiClient> ChatApiAsync()
    {
        var (http, adminKey) = await fixture.ChatApiAsync();
        return new ChatApiClient(http, adminKey);
    }

    // Straight to each node as the superuser: pg_control_system() reads the node's own pg_control.
    private async Task<IReadOnlyList<long>> SystemIdentifiersAsync()
    {
        var identifiers = new List<long>();
        foreach (var node in fixture.Cluster.ServingNodes)
        {
            await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node.Name));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT system_identifier FROM pg_control_system()", connection);
            identifiers.Add((long)(await command.ExecuteScalarAsync())!);
        }

        return identifiers;
    }
}
