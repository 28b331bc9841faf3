using System.Diagnostics;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Monitoring;

/// <summary>An operator is told when a replica falls behind: the alert travels from the exporter through Prometheus to Alertmanager.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ReplicationLagAlertTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const string AlertName = "PostgresReplicationLagHigh";

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ReplicaWithPausedReplayRaisesTheReplicationLagAlertInAlertmanager()
    {
        // Given a settled cluster and one of its streaming replicas
        using var monitoring = fixture.PrometheusApi();
        var state = await Eventually.GetAsync(fixture.PatroniClusterAsync,
            fixture.IsHealthy, TimeSpan.FromMinutes(2), "a settled cluster");
        var replica = state.Members.First(m => m.IsStreamingReplica).Name;
        // pg_wal_replay_pause() is for superusers: straight to the node, not through PgBouncer (which refuses superusers).
        await using var replicaConnection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(replica));
        await replicaConnection.OpenAsync();
        await EnsureReplayedACommitSinceStartAsync(replicaConnection);

        // Patroni resumes a paused replay on its next loop; in maintenance mode it leaves PostgreSQL alone.
        await using var maintenance = await fixture.PatroniMaintenanceModeAsync();
        var stopwatch = Stopwatch.StartNew();
        using var writing = new CancellationTokenSource();
        try
        {
            // When it stops replaying WAL while the leader keeps committing
            await using (var pause = new NpgsqlCommand("SELECT pg_wal_replay_pause()", replicaConnection))
            {
                await pause.ExecuteNonQueryAsync();
            }

            var writer = KeepCommittingAsync(writing.Token);

            // Then Alertmanager receives the lag alert for that replica
            var alerts = await Eventually.GetAsync(
                ct => monitoring.AlertmanagerAlertsAsync(ct),
                a => a.Any(l => l["alertname"] == AlertName && l.GetValueOrDefault("instance") == replica),
                TimeSpan.FromMinutes(2), $"{AlertName} for {replica} in Alertmanager");
            output.WriteLine($"{AlertName} for {replica} reached Alertmanager {stopwatch.Elapsed.TotalSeconds:F0} s after replay was paused");
            Assert.Contains(alerts, a => a["alertname"] == AlertName && a["instance"] == replica && a["severity"] == "warning");

            await writing.CancelAsync();
            await writer;
        }
        finally
        {
            await writing.CancelAsync();
            await using var resume = new NpgsqlCommand("SELECT pg_wal_replay_resume()", replicaConnection);
            await resume.ExecuteNonQueryAsync();
        }

        // And the replica catches up again once replay resumes
        await Eventually.GetAsync(ct => monitoring.QueryAsync($"pg_replication_lag_seconds{{instance=\"{replica}\"}} < 1", ct),
            s => s.Count == 1, TimeSpan.FromMinutes(1), $"{replica} caught up");
    }

    /// <summary>
    /// postgres_exporter measures lag as now() - pg_last_xact_replay_timestamp(), which is NULL (reported as 0) until the
    /// replica has replayed a commit since PostgreSQL started. A replica restarted by an earlier test (switchover, rewind)
    /// would otherwise never show lag while paused.
    /// </summary>
    private async Task EnsureReplayedACommitSinceStartAsync(NpgsqlConnection replicaConnection)
    {
        await Eventually.GetAsync(async ct =>
        {
            await using (var leader = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase)))
            {
                await leader.OpenAsync(ct);
                await using var write = new NpgsqlCommand("SELECT txid_current()", leader);
                await write.ExecuteScalarAsync(ct);
            }

            await using var replayed = new NpgsqlCommand("SELECT pg_last_xact_replay_timestamp() IS NOT NULL", replicaConnection);
            return (bool)(await replayed.ExecuteScalarAsync(ct))!;
        }, replayedOne => replayedOne, TimeSpan.FromSeconds(30), "the replica replaying a commit");
    }

    /// <summary>Commits a transaction every half second: a paused replica's lag only grows while there is WAL to replay.</summary>
    private async Task KeepCommittingAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase));
                    await connection.OpenAsync(cancellationToken);
                    // An assigned transaction id makes the commit a WAL record.
                    await using var command = new NpgsqlCommand("SELECT txid_current()", connection);
                    await command.ExecuteScalarAsync(cancellationToken);
                }
                catch (NpgsqlException ex)
                {
                    output.WriteLine($"Write failed (retrying): {ex.Message}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }
}
