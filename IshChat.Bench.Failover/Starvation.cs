using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace IshChat.Bench.Failover;

/// <summary>
/// The fencer's false-positive rate: a healthy cluster under CPU starvation (a busy loop per core, plus writers
/// through PgBouncer as fast as they go), with the fencer watching. Every fence here is a healthy primary killed.
/// </summary>
internal static class Starvation
{
    private const int Writers = 8;

    public static async Task MeasureFalseFencesAsync(PatroniTestCluster cluster, TimeSpan duration)
    {
        var fencer = cluster.Fencer ?? throw new InvalidOperationException("--starve measures the fencer; it is off with --lease-only.");
        var (rounds, unanswered, lapsed, fences) = (fencer.Rounds, fencer.UnansweredProbes, fencer.LapsedLeaseRounds, fencer.Fences);
        var leader = (await cluster.LeaderAsync()).Name;
        Console.WriteLine($"Starving the machine for {duration.TotalSeconds:F0} s: {Environment.ProcessorCount} busy loops and {Writers} writers; leader {leader}");

        using var stop = new CancellationTokenSource(duration);
        var spinners = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Factory.StartNew(() =>
        {
            var spins = 0L;
            while (!stop.IsCancellationRequested)
            {
                spins++;
            }

            return spins;
        }, TaskCreationOptions.LongRunning)).ToList();
        var writes = 0L;
        var failures = 0L;
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            await using var dataSource = NpgsqlDataSource.Create(cluster.PgBouncerConnectionString());
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand("SELECT txid_current()", connection);
                    await command.ExecuteScalarAsync();
                    Interlocked.Increment(ref writes);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();

        var stopwatch = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {stopwatch.Elapsed.TotalSeconds:F0} s: {writes} writes, {fencer.UnansweredProbes - unanswered} unanswered probes, {fencer.LapsedLeaseRounds - lapsed} lapsed-lease rounds, {fencer.Fences - fences} fences"));
        }

        await Task.WhenAll(spinners);
        await Task.WhenAll(writers);
        var state = await cluster.TryReadClusterAsync();
        Console.WriteLine();
        Console.WriteLine("| starved for (s) | fencer rounds | REST probes unanswered | rounds with the lease unrenewed ≥ 5 s | fences (false positives) | writes | failed writes | leader before → after |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {duration.TotalSeconds:F0} | {fencer.Rounds - rounds} | {fencer.UnansweredProbes - unanswered} | {fencer.LapsedLeaseRounds - lapsed} | {fencer.Fences - fences} | {writes} | {failures} | {leader} → {state?.Leader?.Name ?? "?"} |"));
    }
}
