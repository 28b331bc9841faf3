using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// Writers into the primary region through its PgBouncer, each row once, never retried, each acknowledgement timed
/// (when the insert was sent and when its commit came back), so a region loss can be judged afterwards against what
/// the promoted region holds: which acknowledged rows it lacks, and whether they are only the newest ones.
/// </summary>
public sealed class RegionWriteLog(PatroniTestCluster primary, Stopwatch clock, int writers = 2)
{
    private readonly ConcurrentDictionary<Guid, (TimeSpan Sent, TimeSpan Acknowledged)> acknowledged = new();
    private volatile bool stopping;
    private Task[] running = [];
    private long failed;

    public const string Table = "region.writes";

    public long Failed => Interlocked.Read(ref failed);

    public static async Task PrepareAsync(PatroniTestCluster cluster, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(cluster.LeaderConnectionString(ClusterRoles.Migrator));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            CREATE SCHEMA IF NOT EXISTS region;
            CREATE TABLE IF NOT EXISTS {Table} (id uuid PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
            GRANT USAGE ON SCHEMA region TO {ClusterRoles.App};
            GRANT SELECT, INSERT ON {Table} TO {ClusterRoles.App};
            TRUNCATE {Table};
            """, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public void Start() => running = [.. Enumerable.Range(0, writers).Select(_ => Task.Run(WriteUntilStoppedAsync))];

    public async Task StopAsync()
    {
        stopping = true;
        await Task.WhenAll(running);
    }

    /// <summary>Inserts one row through <paramref name="connectionString"/>; its id.</summary>
    public static async Task<Guid> InsertAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var insert = new NpgsqlCommand($"INSERT INTO {Table} (id) VALUES ($1)", connection) { Parameters = { new() { Value = id } } };
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return id;
    }

    /// <summary>Polls <paramref name="connectionString"/> until row <paramref name="id"/> is there; how long that took.</summary>
    public static async Task<TimeSpan> WaitUntilVisibleAsync(string connectionString, Guid id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var select = new NpgsqlCommand($"SELECT count(*) FROM {Table} WHERE id = $1", connection) { Parameters = { new() { Value = id } } };
        while ((long)(await select.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Row {id} not visible after {timeout.TotalSeconds:F0} s.");
            }

            await Task.Delay(10, cancellationToken);
        }

        return clock.Elapsed;
    }

    /// <summary>What the region that took over (read through <paramref name="connectionString"/>) holds of the acknowledged rows, judged at <paramref name="lossAt"/>.</summary>
    public async Task<RegionLossCheck> CheckAsync(string connectionString, TimeSpan lossAt, CancellationToken cancellationToken = default)
    {
        var present = new HashSet<Guid>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var select = new NpgsqlCommand($"SELECT id FROM {Table}", connection);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                present.Add(reader.GetGuid(0));
            }
        }

        var acked = acknowledged.ToArray();
        var lost = acked.Where(a => !present.Contains(a.Key)).ToList();
        // WAL is one sequence: a commit acknowledged before another insert was even sent is earlier in it. So if the later
        // one arrived, the earlier one must have too; a lost row older than a present one is a hole, not a lag.
        var latestPresentSent = acked.Where(a => present.Contains(a.Key)).Select(a => a.Value.Sent).DefaultIfEmpty(TimeSpan.Zero).Max();
        var holes = lost.Count(l => l.Value.Acknowledged < latestPresentSent);
        var oldestLost = lost.Count == 0 ? (TimeSpan?)null : lost.Min(l => l.Value.Acknowledged);
        return new RegionLossCheck(acked.Length, lost.Count, holes, oldestLost is { } oldest ? lossAt - oldest : TimeSpan.Zero, Failed);
    }

    private async Task WriteUntilStoppedAsync()
    {
        var connectionString = primary.PgBouncerConnectionString();
        while (!stopping)
        {
            var sent = clock.Elapsed;
            try
            {
                var id = await InsertAsync(connectionString, CancellationToken.None);
                acknowledged[id] = (sent, clock.Elapsed);
                await Task.Delay(5, CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                Interlocked.Increment(ref failed);
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }
}

/// <summary>
/// Acknowledged rows the promoted region lacks (the RPO in rows), how many of them are holes (older than a row it has:
/// never explained by lag), and how far before the loss the oldest of them was acknowledged (the RPO in time).
/// </summary>
public sealed record RegionLossCheck(long Acknowledged, long Lost, long Holes, TimeSpan LostWindow, long FailedWrites)
{
    public override string ToString() =>
        $"{Acknowledged} acknowledged, {Lost} missing in the promoted region (the newest {LostWindow.TotalMilliseconds:F0} ms before the loss), {Holes} holes, {FailedWrites} writes failed (unacknowledged)";
}
