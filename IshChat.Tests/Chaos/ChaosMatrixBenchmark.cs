using System.Globalization;
using IshChat.Cluster.Chaos;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Chaos;

/// <summary>
/// The whole chaos matrix as a benchmark (bench/chaos.sh, which sets <see cref="RunVariable"/>): every row of
/// <see cref="ChaosMatrix.Full"/> on the AppHost, in the replication mode the AppHost was started in. The markdown table
/// is rewritten after each row (a run cut short still leaves the rows it did) to <see cref="TableVariable"/>'s file;
/// the test fails when a row misses its goal, and the script exits non-zero with it.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Benchmark)]
public sealed class ChaosMatrixBenchmark(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    public const string RunVariable = "ISHCHAT_CHAOS_BENCH";
    public const string RowsVariable = "ISHCHAT_CHAOS_ROWS";
    public const string TableVariable = "ISHCHAT_CHAOS_TABLE";

    /// <summary>About a minute a row, ~40 rows in synchronous or quorum mode, on 2 cores shared with the load.</summary>
    private const int Timeout = 150 * 60 * 1000;

    [BenchmarkFact(RunVariable, Timeout = Timeout)]
    public async Task EveryRowOfTheChaosMatrixMeetsItsGoal()
    {
        var runner = new AppHostChaosRunner(fixture, output);
        var topology = await runner.TopologyAsync();
        var rows = ChaosMatrix.Select(ChaosMatrix.Full(topology), Environment.GetEnvironmentVariable(RowsVariable));
        var table = Environment.GetEnvironmentVariable(TableVariable) ?? Path.Combine(Path.GetTempPath(), "ishchat-chaos.md");
        var mode = topology.SynchronousMode.ToString().ToLowerInvariant();
        output.WriteLine($"chaos matrix: {rows.Count} rows, replication {mode}, table in {table}");

        var results = new List<(ChaosRow Row, ChaosOutcome Outcome)>();
        foreach (var row in rows)
        {
            ChaosOutcome outcome;
            try
            {
                outcome = await runner.RunAsync(row);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
            {
                // One row that could not be run is a row in the table, not the end of the matrix.
                output.WriteLine($"{row.Name}: not run: {ex}");
                outcome = ChaosOutcome.NotRun(ex.Message.Split('\n')[0]);
            }

            results.Add((row, outcome));
            await File.WriteAllTextAsync(table, string.Create(CultureInfo.InvariantCulture,
                $"Replication: {mode}; {results.Count} of {rows.Count} rows; finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load {LoadAverage()}\n\n") +
                ChaosTable.Markdown(results, runner.Goal));
        }

        var missed = results.Where(r => runner.Goal.Misses(r.Row, r.Outcome).Count > 0).Select(r => r.Row.Name).ToList();
        Assert.True(missed.Count == 0, $"rows that missed their goal: {string.Join(", ", missed)} (table: {table})");
    }

    /// <summary>The machine's load average as <c>uptime</c> shows it: every figure is recorded with it.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
