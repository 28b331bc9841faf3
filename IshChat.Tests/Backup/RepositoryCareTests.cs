using System.Text.Json;
using IshChat.Cluster.Backup;
using IshChat.Cluster.InstanceRestore;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// The repository over time: retention removes what falls out of the window and leaves the newest backup
/// restorable; an object store that goes away for a while costs nothing once it is back.
/// </summary>
[Collection(BackupClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class RepositoryCareTests(BackupClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan restoreTimeout = TimeSpan.FromMinutes(4);

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task RetentionRemovesOlderBackupsAndTheirWalAndTheNewestBackupStillRestores()
    {
        // Given rows written before and after one more full backup taken on the replica (the fixture's is older)
        var cluster = fixture.Cluster;
        var state = await cluster.WaitForHealthyAsync(settle);
        var leader = cluster.Node(state.Leader!.Name);
        var replica = cluster.Node(state.Members.First(m => m.IsStreamingReplica).Name);
        var superuser = cluster.NodeConnectionString(leader, ClusterRoles.Database);
        var table = $"retain_{Guid.NewGuid():N}"[..16];
        await BackupSql.ExecuteAsync(superuser, $"CREATE TABLE {table} (phase text NOT NULL); INSERT INTO {table} VALUES ('before')");
        await cluster.BackupAsync(replica);
        await BackupSql.ExecuteAsync(superuser, $"INSERT INTO {table} VALUES ('after')");
        var before = await InfoAsync(cluster, leader);
        var newest = before.Backups[^1];
        Assert.True(before.Backups.Count >= 2, $"expected at least 2 backups, found {before.Backups.Count}");

        // When expire runs with a window only the newest full backup fits in. pgBackRest's time-based window counts
        // whole days (repo1-retention-full-type=time), so a window of minutes is the count-based one: keep 1.
        var expired = await cluster.PgBackRestAsync(leader, ["--repo1-retention-full-type=count", "--repo1-retention-full=1", "expire"]);
        output.WriteLine(expired);

        // Then only the newest backup is left, the archive starts at its first segment, and restoring it to the end
        // of the archive has every row
        var after = await InfoAsync(cluster, leader);
        output.WriteLine($"backups {before.Backups.Count} → {after.Backups.Count}; archive {before.ArchiveMin} → {after.ArchiveMin} (newest backup starts at {newest.ArchiveStart})");
        Assert.Equal([newest.Label], after.Backups.Select(b => b.Label));
        Assert.True(string.CompareOrdinal(Segment(after.ArchiveMin), Segment(newest.ArchiveStart)) >= 0 && string.CompareOrdinal(Segment(before.ArchiveMin), Segment(after.ArchiveMin)) < 0,
            $"WAL before the newest backup ({newest.ArchiveStart}) should be gone: archive went from {before.ArchiveMin} to {after.ArchiveMin}");
        // and the recovery window the app host exports says the same: one backup, the first recoverable point moved
        // forward to the newest backup's end, the archive's first segment as pgBackRest lists it
        output.WriteLine($"first recoverable point {before.Window.FirstRecoverable:u} → {after.Window.FirstRecoverable:u}");
        Assert.Equal(before.Backups.Count, before.Window.Backups);
        Assert.Equal(1, after.Window.Backups);
        Assert.True(after.Window.FirstRecoverable > before.Window.FirstRecoverable, "the first recoverable point should move forward");
        Assert.Equal(after.Window.NewestBackupEnded, after.Window.FirstRecoverable);
        Assert.Equal(after.ArchiveMin, after.Window.ArchiveMin);
        Assert.Contains("ishchat_backup_first_recoverable_timestamp_seconds{stanza=", after.Window.Render(), StringComparison.Ordinal);

        await cluster.CheckArchiveAsync(leader);
        await using var restored = await SideRestore.StartAsync(leader.ContainerId, RestoreTarget.Latest, restoreTimeout, logger: fixture.Logger);
        Assert.Equal("after,before", await BackupSql.ScalarAsync<string>(restored.ConnectionString(), $"SELECT string_agg(phase, ',' ORDER BY phase) FROM {table}"));
    }

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task WhileTheStoreIsDownWalWaitsOnThePrimaryAndAfterItReturnsNothingIsLost()
    {
        // Given a leader archiving normally
        var cluster = fixture.Cluster;
        var leader = await LeaderAfterSettlingAsync(cluster);
        var superuser = cluster.NodeConnectionString(leader, ClusterRoles.Database);
        var table = $"outage_{Guid.NewGuid():N}"[..16];
        await BackupSql.ExecuteAsync(superuser, $"CREATE TABLE {table} (batch int NOT NULL, pad text NOT NULL)");
        await cluster.CheckArchiveAsync(leader);
        var failedBefore = await BackupSql.ScalarAsync<long>(superuser, "SELECT failed_count FROM pg_stat_archiver");
        var store = cluster.BackupStore!;

        try
        {
            // When the store is down while the primary writes and completes segments. Stopped, not killed: Azurite
            // keeps its blob index in memory and saves it now and then, so a SIGKILL loses blobs it already
            // acknowledged (seen here: the archive then missed segments pgBackRest had pushed). See docs/backup.md.
            await store.Container.StopAsync();
            for (var batch = 1; batch <= 10; batch++)
            {
                await BackupSql.ExecuteAsync(superuser, $"INSERT INTO {table} SELECT {batch}, repeat('x', 1000) FROM generate_series(1, 500); SELECT pg_switch_wal();");
            }

            // Then archiving fails visibly: failures counted and the segments wait on the primary's disk
            var waiting = await Eventually.GetAsync(ct => ArchiverAsync(superuser, ct), a => a.Failed > failedBefore && a.Ready >= 5, TimeSpan.FromMinutes(2), "failed archiving with segments waiting");
            output.WriteLine($"store down: failed_count {failedBefore} → {waiting.Failed}, {waiting.Ready} segments waiting (.ready), last archived {waiting.LastArchived}, last failed {waiting.LastFailed}");
        }
        finally
        {
            // Whatever happened above, the tests after this one need the store. Its blobs are in the container's own
            // filesystem, which a stop keeps; the nodes reach it by its network alias, whatever host port it gets.
            await store.Container.StartAsync();
        }

        // And once the store is back, archiving catches up: check archives a fresh segment, nothing waits any more
        await Eventually.GetAsync(ct => cluster.CheckArchiveAsync(leader, ct), _ => true, TimeSpan.FromMinutes(3), "pgbackrest check passing after the outage");
        var caughtUp = await Eventually.GetAsync(ct => ArchiverAsync(superuser, ct), a => a.Ready == 0, TimeSpan.FromMinutes(1), "no segment waiting");
        output.WriteLine($"store back: failed_count {caughtUp.Failed}, {caughtUp.Ready} waiting, last archived {caughtUp.LastArchived}");

        // And a restore to the end of the archive holds every batch written during the outage
        await using var restored = await SideRestore.StartAsync(leader.ContainerId, RestoreTarget.Latest, restoreTimeout, logger: fixture.Logger);
        Assert.Equal(5000L, await BackupSql.ScalarAsync<long>(restored.ConnectionString(), $"SELECT count(*) FROM {table}"));
        Assert.Equal(10L, await BackupSql.ScalarAsync<long>(restored.ConnectionString(), $"SELECT count(DISTINCT batch) FROM {table}"));
    }

    private static async Task<TestClusterNode> LeaderAfterSettlingAsync(PatroniTestCluster cluster)
    {
        await cluster.WaitForHealthyAsync(settle);
        return await cluster.LeaderAsync();
    }

    private static async Task<Archiver> ArchiverAsync(string superuser, CancellationToken cancellationToken)
    {
        var failed = await BackupSql.ScalarAsync<long>(superuser, "SELECT failed_count FROM pg_stat_archiver", cancellationToken);
        var ready = await BackupSql.ScalarAsync<long>(superuser, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'", cancellationToken);
        var lastArchived = await BackupSql.ScalarAsync<string>(superuser, "SELECT coalesce(last_archived_wal, '-') FROM pg_stat_archiver", cancellationToken);
        var lastFailed = await BackupSql.ScalarAsync<string>(superuser, "SELECT coalesce(last_failed_wal, '-') FROM pg_stat_archiver", cancellationToken);
        return new Archiver(failed, ready, lastArchived, lastFailed);
    }

    /// <summary>The segment number without the timeline: what "older" means across a switchover.</summary>
    private static string Segment(string walFile) => walFile[8..];

    private static async Task<RepositoryInfo> InfoAsync(PatroniTestCluster cluster, TestClusterNode node)
    {
        var text = await cluster.PgBackRestAsync(node, [.. RecoveryWindow.InfoArguments]);
        using var json = JsonDocument.Parse(text);
        var stanza = json.RootElement[0];
        var backups = stanza.GetProperty("backup").EnumerateArray()
            .Select(b => new BackupInfo(b.GetProperty("label").GetString()!, b.GetProperty("archive").GetProperty("start").GetString()!)).ToList();
        var archiveMin = stanza.GetProperty("archive").EnumerateArray().Select(a => a.GetProperty("min").GetString()!).Min(StringComparer.Ordinal)!;
        return new RepositoryInfo(backups, archiveMin, RecoveryWindow.Parse(text));
    }

    private sealed record Archiver(long Failed, long Ready, string LastArchived, string LastFailed);

    private sealed record BackupInfo(string Label, string ArchiveStart);

    private sealed record RepositoryInfo(IReadOnlyList<BackupInfo> Backups, string ArchiveMin, RecoveryWindow Window);
}
