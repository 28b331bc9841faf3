using System.Diagnostics;
using Npgsql;

namespace IshChat.Bench.Failover;

internal sealed record BenchOptions(int Repeat, IReadOnlyList<string> Faults, bool LeaseOnly)
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

        return new BenchOptions(repeat, faults, args.Contains("--lease-only"));
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

internal static class Faults
{
    public static string Target(string fault) => fault switch
    {
        "kill" => "≤ 10 s median, ≤ 15 s worst",
        "crash" => "≤ 5 s",
        "switchover" => "≤ 2 s longest write pause",
        "stop" => "(graceful: no target set)",
        _ => throw new ArgumentException($"Unknown fault '{fault}': use kill, crash, switchover or stop."),
    };

    public static Task InjectAsync(PatroniTestCluster cluster, string fault, TestClusterNode leader) => fault switch
    {
        "kill" => cluster.KillAsync(leader),
        "crash" => cluster.CrashPostgresAsync(leader),
        "switchover" => cluster.Rest.SwitchoverAsync(cluster.RestUrl(leader), leader.Name, candidate: null),
        "stop" => cluster.StopAsync(leader),
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
    };

    public static Task RepairAsync(PatroniTestCluster cluster, string fault, TestClusterNode leader) =>
        fault is "kill" or "stop" ? cluster.RestartAsync(leader) : Task.CompletedTask;
}

internal static class Probes
{
    /// <summary>Writes every 50 ms around <paramref name="action"/> and returns the longest gap between acknowledged writes.</summary>
    public static async Task<TimeSpan> LongestWritePauseAsync(PatroniTestCluster cluster, Func<Task> action)
    {
        var acks = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
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
                    acks.Add(clock.Elapsed);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    // A failed write is part of the pause.
                }

                await Task.Delay(50);
            }
        });

        await Task.Delay(500);
        await action();
        await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromMinutes(2));
        await Task.Delay(1000);
        await stop.CancelAsync();
        await writer;
        return acks.Zip(acks.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.Zero).Max();
    }
}
