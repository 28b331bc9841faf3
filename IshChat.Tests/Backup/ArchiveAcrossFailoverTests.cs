using IshChat.Cluster.Backup;
using IshChat.Cluster.Faults;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// The hard case for "archiving follows the leader": the primary is killed while it writes WAL fast, so segments it
/// completed may not have reached the store yet, and only the primary archives (archive_mode=on).
/// </summary>
[Collection(BackupClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class ArchiveAcrossFailoverTests(BackupClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task ARestoreAfterThePrimaryIsKilledUnderWritesHasEveryAcknowledgedWrite()
    {
        // Given a writer committing ~1 MB batches on the leader
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        var oldLeader = await cluster.LeaderAsync();
        var table = $"kill_{Guid.NewGuid():N}"[..16];
        await ExecuteAsync(cluster.NodeConnectionString(oldLeader, "ishchat"), $"CREATE TABLE {table} (batch int NOT NULL, n int NOT NULL, pad text NOT NULL)");
        var acknowledged = new System.Collections.Concurrent.ConcurrentQueue<int>();
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var batch = 1; !stopWriting.IsCancellationRequested; batch++)
            {
                try
                {
                    await ExecuteAsync(cluster.NodeConnectionString(oldLeader, "ishchat"),
                        $"INSERT INTO {table} SELECT {batch}, g, repeat(md5(g::text), 4) FROM generate_series(1, 5000) g");
                    acknowledged.Enqueue(batch);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        // At least ~40 MB of WAL (2–3 segments of 16 MB) before the kill, so segments are completed and in flight.
        var writing = System.Diagnostics.Stopwatch.StartNew();
        while (acknowledged.Count < 40 && writing.Elapsed < TimeSpan.FromSeconds(60) && !writer.IsCompleted)
        {
            await Task.Delay(100);
        }


        // When the primary is killed mid-write, the replica takes over, and the old primary comes back as a replica
        await cluster.InjectAsync(Fault.Kill, oldLeader);
        await stopWriting.CancelAsync();
        await writer;
        await cluster.WaitForAsync(s => s.Leader is { State: "running" } l && l.Name != oldLeader.Name, settle, "the replica leading");
        await cluster.RepairAsync(Fault.Kill, oldLeader);
        var state = await cluster.WaitForHealthyAsync(settle);
        var newLeader = cluster.Node(state.Leader!.Name);
        await Eventually.GetAsync(ct => cluster.CheckArchiveAsync(newLeader, ct), _ => true, TimeSpan.FromMinutes(1), "pgbackrest check on the new leader");
        var live = await BatchesAsync(cluster.NodeConnectionString(newLeader, "ishchat"), table);

        // Then a restore to the end of the archive holds every acknowledged batch, and exactly what the live cluster has
        var (restored, duration) = await cluster.RestoreToNewClusterAsync(RestoreTarget.Latest, TimeSpan.FromMinutes(4));
        var recovered = await BatchesAsync(cluster.NodeConnectionString(restored, "ishchat"), table);
        output.WriteLine($"Killed {oldLeader} after {acknowledged.Count} acknowledged batches; {newLeader} leads with {live.Count}; "
            + $"the archive restored {recovered.Count} in {duration.TotalSeconds:F1} s");
        Assert.True(acknowledged.Count >= 40, $"only {acknowledged.Count} batches were acknowledged before the kill");
        Assert.Empty(acknowledged.Except(recovered));
        Assert.Equal(live, recovered);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 30 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<int>> BatchesAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // A batch is one transaction: it is there with all its 5000 rows or not at all.
        await using var command = new NpgsqlCommand($"SELECT batch FROM {table} GROUP BY batch HAVING count(*) = 5000 ORDER BY batch", connection);
        var batches = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            batches.Add(reader.GetInt32(0));
        }

        return batches;
    }
}
