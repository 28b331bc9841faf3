using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>What the checker saw: every acknowledged write must be present exactly once.</summary>
public sealed record WriteCheckReport(
    long Attempted, long Acknowledged, long Failed, long Lost, long Duplicated, long PresentThoughUnacknowledged,
    TimeSpan LongestOutage, long WalBytesPerWrite)
{
    public override string ToString() =>
        $"attempted {Attempted}, acknowledged {Acknowledged}, failed {Failed}, lost {Lost}, duplicated {Duplicated}, " +
        $"present though unacknowledged {PresentThoughUnacknowledged}, longest write outage {LongestOutage.TotalSeconds:F1} s";
}

/// <summary>
/// A Jepsen-style checker: concurrent writers insert rows with unique ids through PgBouncer's
/// read-write entry, each id once, never retried, while faults are injected; afterwards every
/// acknowledged id is looked up on the new leader. The table has no unique constraint, so a
/// write applied twice would show as a duplicate instead of being hidden by an error.
/// </summary>
public sealed class WriteChecker(PatroniTestCluster cluster, int writers = 4)
{
    private readonly ConcurrentDictionary<Guid, long> acknowledged = new();
    private readonly ConcurrentBag<Guid> failed = [];
    private long attempted;

    public async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(cluster.PgBouncerConnectionString(ClusterRoles.Migrator));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            CREATE SCHEMA IF NOT EXISTS jepsen;
            CREATE TABLE IF NOT EXISTS jepsen.writes (id uuid NOT NULL, writer int NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
            GRANT USAGE ON SCHEMA jepsen TO {ClusterRoles.App};
            GRANT SELECT, INSERT ON jepsen.writes TO {ClusterRoles.App};
            TRUNCATE jepsen.writes;
            """, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Writes while <paramref name="faults"/> runs, then checks every acknowledged write.</summary>
    public async Task<WriteCheckReport> RunAsync(Func<CancellationToken, Task> faults, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteUntilStoppedAsync(w, clock, stop.Token))).ToArray();
        try
        {
            await faults(cancellationToken);
            // Let writers see the repaired cluster for a moment, so the last outage is closed.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writerTasks);
        }

        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2), cancellationToken);
        return await VerifyAsync(cancellationToken);
    }

    private async Task WriteUntilStoppedAsync(int writer, Stopwatch clock, CancellationToken stop)
    {
        var connectionString = cluster.PgBouncerConnectionString();
        while (!stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid();
            Interlocked.Increment(ref attempted);
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(CancellationToken.None);
                await using var insert = new NpgsqlCommand("INSERT INTO jepsen.writes (id, writer) VALUES ($1, $2)", connection)
                {
                    Parameters = { new() { Value = id }, new() { Value = writer } },
                };
                await insert.ExecuteNonQueryAsync(CancellationToken.None);
                acknowledged[id] = clock.ElapsedTicks;
                await Task.Delay(10, CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                // Outcome unknown: the commit may or may not have happened. Counted, never retried.
                failed.Add(id);
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    private async Task<WriteCheckReport> VerifyAsync(CancellationToken cancellationToken)
    {
        var present = new Dictionary<Guid, long>();
        long walBytes;
        await using (var connection = new NpgsqlConnection(cluster.PgBouncerConnectionString(ClusterRoles.Migrator)))
        {
            await connection.OpenAsync(cancellationToken);
            await using (var select = new NpgsqlCommand("SELECT id, count(*) FROM jepsen.writes GROUP BY id", connection))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    present[reader.GetGuid(0)] = reader.GetInt64(1);
                }
            }

            await using var size = new NpgsqlCommand("SELECT pg_total_relation_size('jepsen.writes')", connection);
            walBytes = (long)(await size.ExecuteScalarAsync(cancellationToken))!;
        }

        var acked = acknowledged.ToArray();
        var lost = acked.LongCount(a => !present.ContainsKey(a.Key));
        var duplicated = present.LongCount(p => p.Value > 1);
        var unacknowledgedPresent = failed.LongCount(present.ContainsKey);
        var ackTimes = acked.Select(a => a.Value).Order().ToArray();
        var longestGap = ackTimes.Zip(ackTimes.Skip(1), (a, b) => b - a).DefaultIfEmpty(0).Max();

        return new WriteCheckReport(
            Interlocked.Read(ref attempted), acked.LongLength, failed.Count, lost, duplicated, unacknowledgedPresent,
            TimeSpan.FromSeconds((double)longestGap / Stopwatch.Frequency),
            present.Count == 0 ? 0 : walBytes / present.Count);
    }
}
