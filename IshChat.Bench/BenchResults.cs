using System.Collections.Concurrent;
using System.Text;

namespace IshChat.Bench;

/// <summary>Latencies per operation, and the errors seen while measuring.</summary>
public sealed class BenchResults
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> latencies = new();
    private readonly ConcurrentBag<string> errors = [];

    public TimeSpan Elapsed { get; set; }

    public void Record(string operation, TimeSpan latency) => latencies.GetOrAdd(operation, _ => []).Add(latency.TotalMilliseconds);

    public void Error(string message) => errors.Add(message);

    public string Report(BenchOptions options)
    {
        var report = new StringBuilder($"{options.Label}: {options.Clients} clients, {Elapsed.TotalSeconds:F0} s measured after {options.Warmup.TotalSeconds:F0} s warm-up\n");
        report.AppendLine($"{"operation",-10}{"count",10}{"ops/s",10}{"p50 ms",10}{"p99 ms",10}");
        foreach (var (operation, samples) in latencies.OrderBy(l => l.Key))
        {
            var sorted = samples.Order().ToArray();
            report.AppendLine($"{operation,-10}{sorted.Length,10}{sorted.Length / Elapsed.TotalSeconds,10:F0}{Percentile(sorted, 0.50),10:F1}{Percentile(sorted, 0.99),10:F1}");
        }

        report.AppendLine($"errors: {errors.Count}{(errors.IsEmpty ? "" : " (first: " + errors.First() + ")")}");
        return report.ToString();
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
