using System.Diagnostics;
using System.Globalization;
using IshChat.Cluster.Docker;
using Npgsql;

namespace IshChat.Bench;

/// <summary>Something measured alongside the load, over the same window (after the warm-up, until the end).</summary>
public interface IMeasurementWindow
{
    void Start();

    /// <summary>Stops measuring and says what was measured, one line, given how many requests were served.</summary>
    Task<string> StopAsync(int requests);
}

/// <summary>A window that samples something on a task of its own until it is stopped, then reports the samples.</summary>
public abstract class SamplingWindow : IMeasurementWindow, IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task? sampling;

    /// <summary>Why sampling ended early, if it did.</summary>
    protected string? Failure { get; private set; }

    public void Start() => sampling = Task.Run(RunAsync);

    public void Dispose()
    {
        stop.Dispose();
        GC.SuppressFinalize(this);
    }

    public async Task<string> StopAsync(int requests)
    {
        await stop.CancelAsync();
        if (sampling is not null)
        {
            await sampling;
        }

        return Report(requests);
    }

    /// <summary>Takes samples until <paramref name="stop"/> is cancelled.</summary>
    protected abstract Task SampleAsync(CancellationToken stop);

    /// <summary>One line: what the samples say.</summary>
    protected abstract string Report(int requests);

    private async Task RunAsync()
    {
        try
        {
            await SampleAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The window ended.
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or DockerCommandException)
        {
            Failure = ex.Message;
        }
    }
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
public sealed class ReplicationLagSampler(string leaderConnection) : SamplingWindow
{
    private readonly List<double> bytes = [];
    private readonly List<double> seconds = [];

    protected override string Report(int requests)
    {
        if (bytes.Count == 0)
        {
            return $"replication lag: no samples{(Failure is null ? "" : " (" + Failure + ")")}";
        }

        double[] Sorted(List<double> values) => [.. values.Order()];
        var b = Sorted(bytes);
        var s = Sorted(seconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"replication lag ({b.Length} samples, every replica each second): bytes p50 {BenchResults.Percentile(b, 0.5):F0} / p99 {BenchResults.Percentile(b, 0.99):F0}; "
            + $"seconds p50 {BenchResults.Percentile(s, 0.5):F4} / p99 {BenchResults.Percentile(s, 0.99):F4}");
    }

    protected override async Task SampleAsync(CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(leaderConnection);
        await connection.OpenAsync(stop);
        // replay_lag is NULL once a replica has caught up and nothing new arrives: that is no lag.
        await using var command = new NpgsqlCommand(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8, coalesce(extract(epoch FROM replay_lag), 0)::float8 FROM pg_stat_replication",
            connection);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stop))
        {
            await using var reader = await command.ExecuteReaderAsync(stop);
            while (await reader.ReadAsync(stop))
            {
                bytes.Add(reader.IsDBNull(0) ? 0 : reader.GetDouble(0));
                seconds.Add(reader.GetDouble(1));
            }
        }
    }
}

/// <summary>
/// The part of the API's CPU time its tiered compiler's background thread used (Linux, from /proc): re-compiling hot
/// methods with optimisations, a cost of the first minute or so after a start, not of each request. Sampled twice a
/// second, since the runtime ends that thread when it idles and starts a new one when work comes.
/// </summary>
public sealed class TieredJitSampler(Func<int> processId) : SamplingWindow
{
    private const string ThreadName = ".NET Tiered Com"; // the kernel keeps 15 characters of ".NET Tiered Compilation Worker"
    private const double TicksPerSecond = 100; // USER_HZ

    private readonly Dictionary<int, (long First, long Last)> threads = [];
    private bool baselineTaken;

    protected override async Task SampleAsync(CancellationToken stop)
    {
        Sample();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stop))
        {
            Sample();
        }
    }

    protected override string Report(int requests)
    {
        Sample();
        if (!baselineTaken)
        {
            return "tiered JIT thread: not measured (no /proc)";
        }

        var seconds = threads.Values.Sum(t => t.Last - t.First) / TicksPerSecond;
        return string.Create(CultureInfo.InvariantCulture,
            $"of the API CPU, the tiered JIT's background thread: {seconds:F1} s, {1000 * seconds / Math.Max(1, requests):F2} ms per request");
    }

    private void Sample()
    {
        var tasks = $"/proc/{processId()}/task";
        if (!Directory.Exists(tasks))
        {
            return;
        }

        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread ended
            }

            // "tid (name) state …": the name may hold spaces, so the fields are counted from its closing parenthesis.
            var nameEnds = stat.LastIndexOf(')');
            if (nameEnds < 0 || stat[(stat.IndexOf('(') + 1)..nameEnds] != ThreadName)
            {
                continue;
            }

            var fields = stat[(nameEnds + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime + stime
            var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            // A thread already there at the first sample counts from then; one started later, from its start.
            threads[tid] = threads.TryGetValue(tid, out var seen) ? (seen.First, ticks) : (baselineTaken ? 0 : ticks, ticks);
        }

        baselineTaken = true;
    }
}
