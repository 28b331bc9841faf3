using System.Globalization;
using System.Collections.Concurrent;
using System.Text;

namespace IshChat.Bench;

/// <summary>Latencies per operation, and the errors seen while measuring.</summary>
public sealed class BenchResults
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> latencies = new();
    private readonly ConcurrentBag<string> errors = [];
    private readonly ConcurrentDictionary<string, int> readRoutes = new();

    public TimeSpan Elapsed { get; set; }

    /// <summary>What the measurement windows (API CPU, replication lag) reported.</summary>
    public List<string> Measured { get; } = [];

    public int Requests => latencies.Values.Sum(l => l.Count);

    /// <summary>The <paramref name="p"/> quantile of one operation's latencies, ms.</summary>
    public double Percentile(string operation, double p) =>
        latencies.TryGetValue(operation, out var samples) ? Percentile([.. samples.Order()], p) : double.NaN;

    public void Record(string operation, TimeSpan latency) => latencies.GetOrAdd(operation, _ => []).Add(latency.TotalMilliseconds);

    public void Error(string message) => errors.Add(message);

    /// <summary>A read whose consistency token the replica had not replayed yet runs on the primary instead.</summary>
    public void CountReadRoute(string route) => readRoutes.AddOrUpdate(route, 1, (_, n) => n + 1);

    public string Report(BenchOptions options)
    {
        var report = new StringBuilder($"{options.Label}: {options.Clients} clients, {Elapsed.TotalSeconds:F0} s measured after {options.Warmup.TotalSeconds:F0} s warm-up\n");
        report.AppendLine(CultureInfo.InvariantCulture, $"{"operation",-10}{"count",10}{"ops/s",10}{"p50 ms",10}{"p99 ms",10}");
        foreach (var (operation, samples) in latencies.OrderBy(l => l.Key))
        {
            var sorted = samples.Order().ToArray();
            report.AppendLine(CultureInfo.InvariantCulture, $"{operation,-10}{sorted.Length,10}{sorted.Length / Elapsed.TotalSeconds,10:F0}{Percentile(sorted, 0.50),10:F1}{Percentile(sorted, 0.99),10:F1}");
        }

        var reads = readRoutes.Values.Sum();
        if (reads > 0)
        {
            // The API's X-Read-Route: "replica" is its read-only connection, "primary" a read whose consistency token the
            // replica had not replayed yet, sent to the read-write connection instead.
            static string Route(string route) => route switch
            {
                "replica" => "read-only connection",
                "primary" => "primary (token not replayed yet)",
                _ => route,
            };
            report.AppendLine("reads served by: " + string.Join(", ", readRoutes.OrderByDescending(r => r.Value).Select(r => $"{Route(r.Key)} {100.0 * r.Value / reads:F1} %")));
        }

        Measured.ForEach(line => report.AppendLine(line));
        report.AppendLine(CultureInfo.InvariantCulture, $"errors: {errors.Count}{(errors.IsEmpty ? "" : " (first: " + errors.First() + ")")}");
        return report.ToString();
    }

    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
