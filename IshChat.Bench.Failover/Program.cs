using System.Diagnostics;
using System.Globalization;
using IshChat.Bench.Failover;
using Microsoft.Extensions.Logging;

// Usage: dotnet run -c Release --project IshChat.Bench.Failover -- [--repeat 10] [--faults kill,crash,switchover,stop,pause,partition] [--lease-only] [--trace] [--starve 180]
//        dotnet run -c Release --project IshChat.Bench.Failover -- --replicas [--rows 2500000] [--instances 20] [--base-replicas 1] [--repeat 1]
//        dotnet run -c Release --project IshChat.Bench.Failover -- --standby [--repeat 1] [--latency-ms 40] [--primary-replicas 1] [--writers 4]
using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(args.Contains("--replicas") || args.Contains("--standby") ? LogLevel.Information : LogLevel.Warning));
var logger = loggerFactory.CreateLogger("bench");
if (args.Contains("--replicas"))
{
    // Replica add and remove on a generated ~1 GB chat database (bench/replicas.sh); the procedure's progress lines are shown.
    await ReplicaBench.RunAsync(args, logger);
    return;
}

if (args.Contains("--standby"))
{
    // A region loss: cross-region delay, promotion, RTO, RPO, the old region fenced (bench/standby.sh).
    await StandbyBench.RunAsync(args, logger);
    return;
}

var options = BenchOptions.Parse(args);

Console.WriteLine($"Starting the test cluster (leader + 3 replicas, async, dead-leader key release and fencing {(options.LeaseOnly ? "off" : "on")})…");
await using var cluster = await PatroniTestCluster.StartAsync(
    new TestClusterOptions { ReleaseDeadLeaderKey = !options.LeaseOnly, FenceSilentPrimary = !options.LeaseOnly }, logger, CancellationToken.None);
await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));

if (options.Starve > TimeSpan.Zero)
{
    await Starvation.MeasureFalseFencesAsync(cluster, options.Starve);
    return;
}

var results = new List<FaultTimings>();
foreach (var fault in options.Faults)
{
    var samples = new List<TimeSpan>();
    for (var i = 1; i <= options.Repeat; i++)
    {
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var leader = await cluster.LeaderAsync();
        TimeSpan sample;
        if (fault is Faults.Switchover or "stop")
        {
            // Planned handovers: POST /switchover returns only when the whole switchover is done, and
            // `docker stop` only once the container has exited, while writes go on during much of
            // either: what clients feel is the longest gap between acknowledged writes.
            sample = await Probes.LongestWritePauseAsync(cluster, () => Faults.InjectAsync(cluster, fault, leader), options.Trace);
            Console.WriteLine($"  {fault} #{i}: {leader.Name} → longest write pause {sample.TotalSeconds:F2} s");
        }
        else
        {
            var stopwatch = Stopwatch.StartNew();
            var injected = DateTimeOffset.UtcNow;
            await Faults.InjectWithRetriesAsync(cluster, fault, leader);
            await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromMinutes(2));
            sample = stopwatch.Elapsed;
            if (options.Trace)
            {
                await Probes.PrintNodeLogsAsync(cluster, injected.AddSeconds(-1), DateTimeOffset.UtcNow);
            }

            Console.WriteLine($"  {fault} #{i}: {leader.Name} → first acknowledged write after {sample.TotalSeconds:F2} s");
        }

        samples.Add(sample);
        await Faults.RepairAsync(cluster, fault, leader);
    }

    results.Add(new FaultTimings(fault, samples));
}

Console.WriteLine();
Console.WriteLine($"| fault | n | min (s) | median (s) | max (s) | target |");
Console.WriteLine($"|---|---|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {r.Fault} | {r.Samples.Count} | {r.Min:F2} | {r.Median:F2} | {r.Max:F2} | {Faults.Target(r.Fault)} |"));
}
