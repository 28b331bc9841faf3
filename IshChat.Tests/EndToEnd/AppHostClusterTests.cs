using System.Diagnostics;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>The cluster as <c>dotnet run</c> on the AppHost brings it up, checked through the routes clients use.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class AppHostClusterTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ClusterHasOneLeaderAndThreeStreamingReplicas()
    {
        // Given the started AppHost; when it has settled (a switchover test may have just run)
        var state = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, fixture.IsHealthy,
            convergence, "one leader and three streaming replicas");

        // Then PostgreSQL itself agrees: the leader streams to every replica the AppHost declares (three; the spares stay stopped)
        var replicas = fixture.Cluster.ConfiguredReplicas;
        Assert.Equal(3, replicas);
        await using var connection = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await connection.OpenAsync();
        var streaming = await Eventually.GetAsync(async ct =>
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", connection);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }, n => n == replicas, convergence, "a streaming row per replica in pg_stat_replication");

        Assert.Equal(replicas, streaming);
        Assert.Single(state.Members, m => m.IsLeader);
        output.WriteLine($"Leader {state.Leader!.Name}; replicas {string.Join(", ", state.Members.Where(m => !m.IsLeader).Select(m => $"{m.Name} ({m.State}, lag {m.LagBytes})"))}");
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RowWrittenThroughReadWriteEntryIsReadBackOnAReplicaThroughReadOnlyEntry()
    {
        // Given a table the migrator owns and the app may write
        await using (var migrator = new NpgsqlConnection(await fixture.MigratorConnectionStringAsync()))
        {
            await migrator.OpenAsync();
            await using var ddl = new NpgsqlCommand($"""
                CREATE SCHEMA IF NOT EXISTS e2e;
                CREATE TABLE IF NOT EXISTS e2e.probe (id uuid PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now());
                GRANT USAGE ON SCHEMA e2e TO {ClusterRoles.App};
                GRANT SELECT, INSERT ON e2e.probe TO {ClusterRoles.App};
                """, migrator);
            await ddl.ExecuteNonQueryAsync();
        }

        var id = Guid.NewGuid();

        // When the app writes through PgBouncer's read-write entry
        await using (var readWrite = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase)))
        {
            await readWrite.OpenAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO e2e.probe (id) VALUES ($1) RETURNING pg_is_in_recovery()", readWrite) { Parameters = { new() { Value = id } } };
            Assert.False((bool)(await insert.ExecuteScalarAsync())!, "the read-write entry reached a server in recovery");
        }

        // Then the read-only entry serves it from a server in recovery: a streaming replica
        await using var readOnly = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabaseReadOnly));
        await readOnly.OpenAsync();
        var (inRecovery, found) = await Eventually.GetAsync(async ct =>
        {
            await using var select = new NpgsqlCommand("SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM e2e.probe WHERE id = $1)", readOnly) { Parameters = { new() { Value = id } } };
            await using var reader = await select.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return (reader.GetBoolean(0), reader.GetBoolean(1));
        }, r => r.Item2, TimeSpan.FromSeconds(30), "the row replicating to the replica behind the read-only entry");

        Assert.True(inRecovery, "the read-only entry reached the primary although replicas are healthy");
        Assert.True(found);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task SwitchoverCommandMovesTheLeaderAndWritesSucceedAgain()
    {
        // Given a settled cluster the dashboard monitor sees
        var before = await SettledClusterSeenByTheDashboardAsync();

        // When the dashboard's switchover command runs
        var stopwatch = Stopwatch.StartNew();
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, PatroniCommands.Switchover);
        Assert.True(result.Success, result.Message);

        // Then another node leads, and a write through PgBouncer succeeds on it
        var after = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, s => s.Leader is { } leader && leader.Name != before.Leader!.Name,
            convergence, "a new leader after the switchover");
        var writer = await Eventually.GetAsync(async ct =>
        {
            await using var connection = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase) + ";Pooling=false");
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery() FROM (SELECT txid_current()) AS write", connection);
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }, inRecovery => !inRecovery, TimeSpan.FromSeconds(60), "a write on the new leader");

        output.WriteLine($"Switchover {before.Leader!.Name} → {after.Leader!.Name}; first write after {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.False(writer);
        Assert.NotEqual(before.Leader!.Name, after.Leader!.Name);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task KillPrimaryCommandIsFollowedByANewLeaderWithinSeconds()
    {
        // Given a settled cluster the dashboard monitor sees
        var before = await SettledClusterSeenByTheDashboardAsync();

        // When the dashboard's "kill primary" command SIGKILLs the leader's container
        var stopwatch = Stopwatch.StartNew();
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, IshChat.AppHost.Hosting.FaultInjection.FaultInjectionCommands.KillPrimary);
        Assert.True(result.Success, result.Message);

        // Then a replica leads well before the 20 s lease could expire: the runtime confirmed the
        // death and the AppHost released the dead leader's key
        var after = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, s => s.Leader is { } leader && leader.Name != before.Leader!.Name,
            convergence, "a new leader after the kill");
        var elapsed = stopwatch.Elapsed;
        output.WriteLine($"Killed {before.Leader!.Name}; {after.Leader!.Name} leads after {elapsed.TotalSeconds:F1} s");
        Assert.True(elapsed < TimeSpan.FromSeconds(18), $"the new leader took {elapsed.TotalSeconds:F1} s: the lease ran out instead");

        // And the killed node, started again by the AppHost's self-healing (nobody starts it), streams from the new leader
        await Eventually.GetAsync(
            fixture.PatroniClusterAsync, fixture.IsHealthy,
            TimeSpan.FromMinutes(3), "the killed node streaming again");
    }

    /// <summary>One leader, three streaming replicas, and the dashboard's monitor agreeing on the leader (commands act on its view).</summary>
    private async Task<ClusterState> SettledClusterSeenByTheDashboardAsync()
    {
        var settled = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, fixture.IsHealthy,
            convergence, "a settled cluster");
        await Eventually.GetAsync(_ => Task.FromResult(fixture.Cluster.LastObservedState?.Leader?.Name), n => n == settled.Leader!.Name,
            TimeSpan.FromSeconds(30), "the dashboard monitor seeing the leader");
        return settled;
    }
}
