using System.Diagnostics;
using IshChat.Cluster.Docker;
using IshChat.Cluster.Faults;
using Npgsql;

namespace IshChat.Bench.Failover;

internal sealed record BenchOptions(int Repeat, IReadOnlyList<string> Faults, bool LeaseOnly, bool Trace, TimeSpan Starve)
{
    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var repeat = int.TryParse(Value("--repeat"), out var n) && n > 0 ? n : 10;
        var faults = (Value("--faults") ?? "kill,crash,switchover,stop").Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (var fault in faults)
        {
            _ = IshChat.Bench.Failover.Faults.Target(fault);
        }

        var starve = Value("--starve") is { } seconds
            ? int.TryParse(seconds, out var s) && s > 0 ? TimeSpan.FromSeconds(s) : throw new ArgumentException($"--starve takes a number of seconds, not '{seconds}'.")
            : TimeSpan.Zero;
        return new BenchOptions(repeat, faults, args.Contains("--lease-only"), args.Contains("--trace"), starve);
    }
}

internal sealed record FaultTimings(string Fault, IReadOnlyList<TimeSpan> Samples)
{
    public double Min => Samples.Min(s => s.TotalSeconds);

    public double Max => Samples.Max(s => s.TotalSeconds);

    public double Median
    {
        get
        {
            var sorted = Samples.Select(s => s.TotalSeconds).Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }
}

/// <summary>
/// What the benchmark can do to the leader: every container <see cref="Fault"/> (kill, stop, crash, pause, partition),
/// plus Patroni's planned switchover.
/// </summary>
internal static class Faults
{
    public const string Switchover = "switchover";

    public static string Target(string fault) => fault switch
    {
        "kill" => "≤ 10 s median, ≤ 15 s worst",
        "crash" => "≤ 5 s",
        Switchover => "≤ 2 s longest write pause",
        "stop" => "(graceful stop, longest write pause: no target set)",
        "pause" or "partition" => "≤ 8 s median (fenced; the lease alone: 20–24 s)",
        _ => throw new ArgumentException($"Unknown fault '{fault}': use {FaultDescription.Verbs} or {Switchover}."),
    };

    public static Task InjectAsync(PatroniTestCluster cluster, string fault, TestClusterNode leader) => fault == Switchover
        ? cluster.Rest.SwitchoverAsync(cluster.RestUrl(leader), leader.Name, candidate: null)
        : cluster.InjectAsync(Parse(fault), leader);

    /// <summary>
    /// On a saturated machine the runtime sometimes fails to freeze a container in time ("unable to freeze"):
    /// that is the fault not happening, not the cluster failing, so it is tried again.
    /// </summary>
    public static async Task InjectWithRetriesAsync(PatroniTestCluster cluster, string fault, TestClusterNode leader)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await InjectAsync(cluster, fault, leader);
                return;
            }
            catch (DockerCommandException ex) when (attempt < 3)
            {
                Console.WriteLine($"  {fault} of {leader.Name} did not happen ({ex.Message.Split('\n').Last()}); trying again");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    public static async Task RepairAsync(PatroniTestCluster cluster, string fault, TestClusterNode leader)
    {
        if (fault == Switchover)
        {
            return;
        }

        if (fault == "pause" && cluster.Fencer is not null)
        {
            // Fenced: killed while frozen and started again by the supervisor, so nothing is left to unpause (unless fencing failed).
            await DockerCli.ExecuteAsync(["unpause", leader.ContainerId]);
            await leader.RefreshHostPortsAsync();
            return;
        }

        await cluster.RepairAsync(Parse(fault), leader);
    }

    private static Fault Parse(string fault) =>
        FaultDescription.TryParse(fault, out var parsed) ? parsed : throw new ArgumentException($"Unknown fault '{fault}'.", nameof(fault));
}

internal static class Probes
{
    /// <summary>
    /// Writes every 50 ms around <paramref name="action"/> and returns the longest gap between acknowledged writes.
    /// With <paramref name="trace"/>, prints what clients saw in that gap: the failed writes, by wall-clock time, to
    /// lay beside the nodes' logs.
    /// </summary>
    public static async Task<TimeSpan> LongestWritePauseAsync(PatroniTestCluster cluster, Func<Task> action, bool trace = false)
    {
        var acks = new List<DateTimeOffset>();
        var failures = new List<(DateTimeOffset At, string Error)>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            await using var dataSource = NpgsqlDataSource.Create(cluster.PgBouncerConnectionString());
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand("SELECT txid_current()", connection);
                    await command.ExecuteScalarAsync();
                    acks.Add(DateTimeOffset.UtcNow);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    // A failed write is part of the pause.
                    failures.Add((DateTimeOffset.UtcNow, ex.Message));
                }

                await Task.Delay(50);
            }
        });

        await Task.Delay(500);
        var asked = DateTimeOffset.UtcNow;
        await action();
        var answered = DateTimeOffset.UtcNow;
        await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromMinutes(2));
        await Task.Delay(1000);
        await stop.CancelAsync();
        await writer;

        var gaps = acks.Zip(acks.Skip(1), (a, b) => (From: a, To: b)).ToList();
        var longest = gaps.DefaultIfEmpty((From: asked, To: asked)).MaxBy(g => g.To - g.From);
        if (trace)
        {
            Console.WriteLine($"    asked {asked:HH:mm:ss.fff}, POST /switchover answered {answered:HH:mm:ss.fff}");
            Console.WriteLine($"    longest gap {longest.From:HH:mm:ss.fff} → {longest.To:HH:mm:ss.fff}");
            foreach (var failure in failures.Where(f => f.At >= longest.From && f.At <= longest.To))
            {
                Console.WriteLine($"    {failure.At:HH:mm:ss.fff} write failed: {failure.Error}");
            }

            await PrintNodeLogsAsync(cluster, asked.AddSeconds(-1), longest.To.AddSeconds(1));
        }

        return longest.To - longest.From;
    }

    /// <summary>Patroni's and PostgreSQL's log lines of every node in a window, merged by time.</summary>
    public static async Task PrintNodeLogsAsync(PatroniTestCluster cluster, DateTimeOffset from, DateTimeOffset to)
    {
        var lines = new List<(DateTimeOffset At, string Line)>();
        foreach (var node in cluster.Nodes.Append(cluster.HAProxy).Append(cluster.PgBouncer))
        {
            var (stdout, stderr) = await node.Container.GetLogsAsync(from.UtcDateTime, to.UtcDateTime, timestampsEnabled: true);
            foreach (var line in (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var space = line.IndexOf(' ');
                if (space > 0 && DateTimeOffset.TryParse(line[..space], out var at))
                {
                    lines.Add((at, $"{node.Name,-9} {line[(space + 1)..]}"));
                }
            }
        }

        foreach (var (at, line) in lines.OrderBy(l => l.At))
        {
            Console.WriteLine($"    {at:HH:mm:ss.fff} {line}");
        }
    }
}
