using System.Diagnostics;
using System.Globalization;
using IshChat.Cluster.Regions;
using Microsoft.Extensions.Logging;

namespace IshChat.Bench.Failover;

/// <summary>
/// A region loss timed (bench/standby.sh, docs/operations.md "Standby cluster in a second region"): a primary region
/// (3 etcd, a leader and --primary-replicas replicas, HAProxy, PgBouncer) and a standby region (<see cref="StandbyRegionDrill"/>)
/// on an inter-region network, optionally --latency-ms one-way delay on it (tc netem); under writers, the delay until a
/// row written in the primary region is on the standby leader; then the primary region lost, the standby promoted: the
/// promotion, the first accepted write after the loss (RTO), the acknowledged rows missing (RPO); the old region back, fenced.
/// </summary>
internal static class StandbyBench
{
    public static async Task RunAsync(string[] args, ILogger logger)
    {
        var repeat = BenchArguments.Number(args, "--repeat", 1, 1);
        var latency = BenchArguments.Number(args, "--latency-ms", 0, 0);
        var replicas = BenchArguments.Number(args, "--primary-replicas", 1, 1);
        var writers = BenchArguments.Number(args, "--writers", 4, 1);

        Console.WriteLine($"Load before: {LoadAverage()}");
        await using var primary = await PatroniTestCluster.StartAsync(new TestClusterOptions { Replicas = replicas }, logger, CancellationToken.None);
        await primary.WaitForHealthyAsync(TimeSpan.FromMinutes(3));
        var rows = new List<string>();
        for (var round = 1; round <= repeat; round++)
        {
            await primary.WaitForHealthyAsync(TimeSpan.FromMinutes(3));
            await using var drill = new StandbyRegionDrill(primary, logger);
            var started = await drill.StartStandbyRegionAsync();
            var link = latency > 0 ? await LinkLatency.AddAsync(drill.Standby!, primary, latency) : "none";
            Console.WriteLine($"  #{round} standby region streaming after {started.TotalSeconds:F1} s; link latency: {link}");

            var writes = await drill.StartWritersAsync(writers);
            var delays = new List<TimeSpan>();
            for (var sample = 0; sample < 20; sample++)
            {
                delays.Add(await drill.MeasureReplicationDelayAsync());
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }

            var (promotion, rto, loss) = await drill.LosePrimaryAndPromoteAsync(writes);
            var rejoin = await drill.ReturnOldRegionFencedAsync();
            delays.Sort();
            Console.WriteLine($"  #{round} delay (ms) median {Ms(delays[delays.Count / 2])}, p95 {Ms(delays[(int)(delays.Count * 0.95)])}, max {Ms(delays[^1])}");
            Console.WriteLine($"  #{round} promotion: {promotion}; RTO (loss → first accepted write) {rto.TotalSeconds:F1} s");
            Console.WriteLine($"  #{round} RPO: {loss}");
            Console.WriteLine($"  #{round} old region back: {rejoin}");
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {link} | {Ms(delays[delays.Count / 2])} / {Ms(delays[(int)(delays.Count * 0.95)])} / {Ms(delays[^1])} | {promotion.Total.TotalSeconds:F1} | {rto.TotalSeconds:F1} | {loss.Lost} of {loss.Acknowledged} ({loss.LostWindow.TotalMilliseconds:F0} ms), {loss.Holes} holes | {rejoin.Total.TotalSeconds:F1} |"));
        }

        Console.WriteLine($"Load after: {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| round | link latency (one way) | delay median / p95 / max (ms) | promote (s) | RTO: loss → first write (s) | RPO: acknowledged rows missing (window) | old region fenced and streaming (s) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
    }

    private static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);

    private static string LoadAverage() => BenchArguments.LoadAverage();
}
