using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace IshChat.Bench;

/// <summary>
/// Does WAL archiving keep up with the API's writes? Every 5 s, on the leader: the WAL position, the newest archived
/// segment, the segments waiting (.ready) and failures. After the load, how long until nothing waits.
/// </summary>
internal sealed class ArchiveSampler : IAsyncDisposable
{
    private static readonly TimeSpan interval = TimeSpan.FromSeconds(5);

    private readonly PatroniTestCluster cluster;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Sample> samples = [];
    private readonly Stopwatch stopwatch = Stopwatch.StartNew();
    private Task sampling = Task.CompletedTask;

    private ArchiveSampler(PatroniTestCluster cluster) => this.cluster = cluster;

    public static ArchiveSampler Start(PatroniTestCluster cluster)
    {
        var sampler = new ArchiveSampler(cluster);
        sampler.sampling = sampler.SampleUntilStoppedAsync();
        return sampler;
    }

    /// <summary>Stops sampling under load, waits (up to <paramref name="drainTimeout"/>) until no segment waits, and sums up.</summary>
    public async Task<string> FinishAsync(TimeSpan drainTimeout)
    {
        await stop.CancelAsync();
        await sampling;
        var loadEnded = stopwatch.Elapsed;
        Sample last;
        do
        {
            last = await SampleAsync();
            if (last.Waiting == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        while (stopwatch.Elapsed - loadEnded < drainTimeout);

        if (samples.Count < 2)
        {
            return "[archive] too few samples";
        }

        var (first, end) = (samples[0], samples[^1]);
        var seconds = (end.At - first.At).TotalSeconds;
        var walMiB = (end.WalBytes - first.WalBytes) / 1048576.0;
        var drained = last.Waiting == 0
            ? string.Create(CultureInfo.InvariantCulture, $"nothing waiting {(stopwatch.Elapsed - loadEnded).TotalSeconds:F1} s after the load ended")
            : string.Create(CultureInfo.InvariantCulture, $"still {last.Waiting} waiting {drainTimeout.TotalSeconds:F0} s after the load");
        return string.Create(CultureInfo.InvariantCulture,
            $"[archive] under load: WAL {walMiB:F0} MiB in {seconds:F0} s ({walMiB / seconds:F2} MiB/s), {end.Archived - first.Archived} segments archived, at most {samples.Max(s => s.Waiting)} waiting (mean {samples.Average(s => s.Waiting):F1}), {end.Failed - first.Failed} failures; {drained}");
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await sampling;
        stop.Dispose();
    }

    private async Task SampleUntilStoppedAsync()
    {
        Console.WriteLine("[archive]   t (s)   WAL written (MiB)   current segment            last archived              waiting  failed");
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var sample = await SampleAsync();
                    samples.Add(sample);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[archive] {sample.At.TotalSeconds,7:F0} {(sample.WalBytes - samples[0].WalBytes) / 1048576.0,19:F1}   {sample.CurrentSegment}   {sample.LastArchived,-24}   {sample.Waiting,6}  {sample.Failed,6}"));
                }
                catch (NpgsqlException ex)
                {
                    Console.WriteLine($"[archive] sample failed: {ex.Message}");
                }

                await Task.Delay(interval, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The load ended.
        }
    }

    private async Task<Sample> SampleAsync()
    {
        var leader = await cluster.LeaderAsync();
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(leader));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, pg_walfile_name(pg_current_wal_lsn()),
                   coalesce(a.last_archived_wal, '-'), a.archived_count, a.failed_count,
                   (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')
              FROM pg_stat_archiver AS a
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Sample(stopwatch.Elapsed, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }

    private sealed record Sample(TimeSpan At, long WalBytes, string CurrentSegment, string LastArchived, long Archived, long Failed, long Waiting);
}
