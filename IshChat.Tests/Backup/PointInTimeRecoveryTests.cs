using IshChat.Cluster.Backup;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// What a user relies on backups for: getting back exactly the data of a moment, and an archive that has no hole
/// when the primary changes. Every restore is a new Patroni cluster made from the repository (Patroni's custom
/// bootstrap), beside the live one.
/// </summary>
[Collection(BackupClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class PointInTimeRecoveryTests(BackupClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan restoreTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public void TheFullBackupIsCopiedFromTheReplica()
    {
        // Given the fixture's full backup, started on the replica
        // Then pgBackRest waited for the standby to replay the backup's start and copied from it, not the primary
        output.WriteLine($"Full backup in {fixture.BackupDuration.TotalSeconds:F1} s");
        Assert.Contains("replay on the standby reached", fixture.BackupOutput, StringComparison.Ordinal);
        Assert.Contains("full backup size", fixture.BackupOutput, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task RestoringToATimeBringsBackEveryCommitBeforeItAndNothingAfter()
    {
        // Given rows committed one by one across a moment T, then damage done after T
        var cluster = fixture.Cluster;
        var leader = await LeaderAfterSettlingAsync(cluster);
        var table = $"pitr_{Guid.NewGuid():N}"[..16];
        await ExecuteAsync(cluster, leader, $"CREATE TABLE {table} (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        var target = DateTimeOffset.MinValue;
        var beforeTarget = 0;
        for (var id = 1; id <= 40; id++)
        {
            await ExecuteAsync(cluster, leader, $"INSERT INTO {table} (id) VALUES ({id})");
            if (id == 20)
            {
                // T is read from the server's clock after row 20 is acknowledged and before row 21 is sent.
                target = await ScalarAsync<DateTime>(cluster, leader, "SELECT clock_timestamp()");
                beforeTarget = id;
            }

            await Task.Delay(50);
        }

        await ExecuteAsync(cluster, leader, $"DELETE FROM {table} WHERE id <= 10");
        await cluster.CheckArchiveAsync(leader);

        // When a new cluster is made from the backup at T
        var (restored, duration) = await cluster.RestoreToNewClusterAsync(RestoreTarget.At(target), restoreTimeout);

        // Then it holds exactly the rows committed before T, the damage undone, and its newest row is less than 1 s before T
        var count = await ScalarAsync<long>(cluster, restored, $"SELECT count(*) FROM {table}");
        var newest = await ScalarAsync<DateTime>(cluster, restored, $"SELECT max(at) FROM {table}");
        output.WriteLine($"Restored to {target:O} in {duration.TotalSeconds:F1} s: {count} rows, newest at {newest:O}");
        Assert.Equal(beforeTarget, count);
        Assert.Equal(beforeTarget, await ScalarAsync<long>(cluster, restored, $"SELECT count(*) FROM {table} WHERE id <= {beforeTarget}"));
        Assert.InRange(target - new DateTimeOffset(newest, TimeSpan.Zero), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.False(await ScalarAsync<bool>(cluster, restored, "SELECT pg_is_in_recovery()"));
    }

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task ArchivingFollowsTheLeaderAcrossASwitchover()
    {
        // Given rows written on the leader
        var cluster = fixture.Cluster;
        var oldLeader = await LeaderAfterSettlingAsync(cluster);
        var table = $"switch_{Guid.NewGuid():N}"[..16];
        await ExecuteAsync(cluster, oldLeader, $"CREATE TABLE {table} (phase text NOT NULL)");
        await ExecuteAsync(cluster, oldLeader, $"INSERT INTO {table} SELECT 'before' FROM generate_series(1, 100)");

        // When the replica takes over and more rows are written on it
        await cluster.Rest.SwitchoverAsync(cluster.RestUrl(oldLeader), oldLeader.Name, candidate: null);
        var state = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name && l.State == "running", settle, "a new leader");
        var newLeader = cluster.Node(state.Leader!.Name);
        await Eventually.GetAsync(ct => ExecuteAsync(cluster, newLeader, $"INSERT INTO {table} SELECT 'after' FROM generate_series(1, 100)", ct),
            _ => true, TimeSpan.FromSeconds(30), "a write on the new leader");
        // The timeline is the first 8 hex digits of the current WAL file's name (the control file's lags until a checkpoint).
        var timeline = await ScalarAsync<string>(cluster, newLeader, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
        await Eventually.GetAsync(ct => cluster.CheckArchiveAsync(newLeader, ct), _ => true, TimeSpan.FromMinutes(1), "pgbackrest check on the new leader");

        // Then the new leader archived its timeline's history, and a restore to the end of the archive has both halves
        var histories = await cluster.ArchivedTimelineHistoriesAsync(newLeader);
        Assert.NotEqual("00000001", timeline);
        Assert.Contains($"{timeline}.history", histories);
        var (restored, duration) = await cluster.RestoreToNewClusterAsync(RestoreTarget.Latest, restoreTimeout);
        var counts = await ScalarAsync<string>(cluster, restored, $"SELECT string_agg(phase || '=' || n, ',' ORDER BY phase) FROM (SELECT phase, count(*) n FROM {table} GROUP BY phase) s");
        output.WriteLine($"Switchover {oldLeader} → {newLeader} (timeline {timeline}); restored the end of the archive in {duration.TotalSeconds:F1} s: {counts}");
        Assert.Equal("after=100,before=100", counts);
    }

    private static async Task<TestClusterNode> LeaderAfterSettlingAsync(PatroniTestCluster cluster)
    {
        await cluster.WaitForHealthyAsync(settle);
        return await cluster.LeaderAsync();
    }

    private static async Task<int> ExecuteAsync(PatroniTestCluster cluster, TestClusterNode node, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(node, "ishchat"));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(PatroniTestCluster cluster, TestClusterNode node, string sql)
    {
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(node, "ishchat"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
