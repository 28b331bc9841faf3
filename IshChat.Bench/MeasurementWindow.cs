using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace IshChat.Bench;

/// <summary>Something measured alongside the load, over the same window (after the warm-up, until the end).</summary>
public interface IMeasurementWindow
{
    void Start();

    /// <summary>Stops measuring and says what was measured, one line, given how many requests were served.</summary>
    Task<string> StopAsync(int requests);
}

/// <summary>The API process's CPU time per request: what the server spends on a request, not what the client waits.</summary>
public sealed class ApiCpuMeter(Func<TimeSpan> cpuTime) : IMeasurementWindow
{
    private TimeSpan startedAt;
    private long wallStarted;

    public void Start()
    {
        startedAt = cpuTime();
        wallStarted = Stopwatch.GetTimestamp();
    }

    public Task<string> StopAsync(int requests)
    {
        var used = cpuTime() - startedAt;
        var wall = Stopwatch.GetElapsedTime(wallStarted);
        return Task.FromResult(string.Create(CultureInfo.InvariantCulture,
            $"API CPU: {used.TotalSeconds:F1} s over {wall.TotalSeconds:F0} s ({100 * used / wall:F0} % of a core), {used.TotalMilliseconds / Math.Max(1, requests):F2} ms per request"));
    }
}

/// <summary>
/// Samples every replica's lag on the leader once a second (pg_stat_replication: WAL bytes not yet replayed, and
/// replay_lag, the time between a commit and its replay) and reports p50/p99 over the window.
/// </summary>
public sealed class ReplicationLagSampler(string leaderConnection) : IMeasurementWindow, IDisposable
{
    private readonly List<double> bytes = [];
    private readonly List<double> seconds = [];
    private readonly CancellationTokenSource stop = new();
    private Task? sampling;

    private string? failure;

    public void Start() => sampling = Task.Run(SampleAsync);

    public void Dispose() => stop.Dispose();

    public async Task<string> StopAsync(int requests)
    {
        await stop.CancelAsync();
        if (sampling is not null)
        {
            await sampling;
        }

        if (bytes.Count == 0)
        {
            return $"replication lag: no samples{(failure is null ? "" : " (" + failure + ")")}";
        }

        double[] Sorted(List<double> values) => [.. values.Order()];
        var b = Sorted(bytes);
        var s = Sorted(seconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"replication lag ({b.Length} samples, every replica each second): bytes p50 {BenchResults.Percentile(b, 0.5):F0} / p99 {BenchResults.Percentile(b, 0.99):F0}; "
            + $"seconds p50 {BenchResults.Percentile(s, 0.5):F4} / p99 {BenchResults.Percentile(s, 0.99):F4}");
    }

    private async Task SampleAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(leaderConnection);
            await connection.OpenAsync(stop.Token);
            // replay_lag is NULL once a replica has caught up and nothing new arrives: that is no lag.
            await using var command = new NpgsqlCommand(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8, coalesce(extract(epoch FROM replay_lag), 0)::float8 FROM pg_stat_replication",
                connection);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await using var reader = await command.ExecuteReaderAsync(stop.Token);
                while (await reader.ReadAsync(stop.Token))
                {
                    bytes.Add(reader.IsDBNull(0) ? 0 : reader.GetDouble(0));
                    seconds.Add(reader.GetDouble(1));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The window ended.
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            failure = ex.Message;
        }
    }
}
