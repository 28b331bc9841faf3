using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Api;

/// <summary>
/// Every streaming replica of the AppHost's cluster with its WAL replay paused (after catching up with the
/// leader, so what exists now is on every replica), until disposed: what a lagging replica looks like, on demand.
/// Patroni resumes a paused replay on its next loop, so the cluster is in maintenance mode meanwhile.
/// </summary>
public sealed class PausedReplay : IAsyncDisposable
{
    private readonly AppHostClusterFixture fixture;
    private readonly IAsyncDisposable maintenance;

    private PausedReplay(AppHostClusterFixture fixture, string leader, IReadOnlyList<string> replicas, IAsyncDisposable maintenance)
    {
        this.fixture = fixture;
        this.maintenance = maintenance;
        Leader = leader;
        Replicas = replicas;
    }

    /// <summary>The node leading while replay is paused (maintenance mode keeps it there).</summary>
    public string Leader { get; }

    public IReadOnlyList<string> Replicas { get; }

    public static async Task<PausedReplay> StartAsync(AppHostClusterFixture fixture)
    {
        var state = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, TimeSpan.FromMinutes(2), "a settled cluster");
        var replicas = state.Members.Where(m => !m.IsLeader).Select(m => m.Name).ToList();
        await WaitForReplicasToCatchUpAsync(fixture, replicas);
        var maintenance = await fixture.PatroniMaintenanceModeAsync();
        var paused = new PausedReplay(fixture, state.Leader!.Name, replicas, maintenance);
        try
        {
            await paused.SetReplayAsync("SELECT pg_wal_replay_pause()");
        }
        catch
        {
            await paused.DisposeAsync();
            throw;
        }

        return paused;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SetReplayAsync("SELECT pg_wal_replay_resume()");
        }
        finally
        {
            await maintenance.DisposeAsync();
        }
    }

    private async Task SetReplayAsync(string sql)
    {
        // pg_wal_replay_pause() is for superusers: straight to each node, not through PgBouncer (which refuses superusers).
        foreach (var node in Replicas)
        {
            await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task WaitForReplicasToCatchUpAsync(AppHostClusterFixture fixture, IEnumerable<string> nodes)
    {
        await using var primary = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await primary.OpenAsync();
        await using var current = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", primary);
        var lsn = (string)(await current.ExecuteScalarAsync())!;
        foreach (var node in nodes)
        {
            await Eventually.GetAsync(async ct =>
            {
                await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node));
                await connection.OpenAsync(ct);
                await using var replayed = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", connection) { Parameters = { new() { Value = lsn } } };
                return (bool)(await replayed.ExecuteScalarAsync(ct))!;
            }, caughtUp => caughtUp, TimeSpan.FromSeconds(30), $"{node} replaying up to {lsn}");
        }
    }
}
