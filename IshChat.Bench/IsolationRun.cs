using System.Globalization;
using IshChat.Bench.Stacks;

namespace IshChat.Bench;

/// <summary>
/// Pools per instance type, measured (--isolation): an enterprise instance's clients alone, then the same clients while
/// a trial instance's many clients flood the API; enterprise p99 with the flood over without it, and how full each of
/// PgBouncer's per-type pools ran.
/// </summary>
internal static class IsolationRun
{
    public static async Task<string> RunAsync(BenchStack stack, HttpClient http, BenchOptions options)
    {
        var enterpriseOptions = options with { Label = "enterprise instance alone" };
        var alone = await new ChatLoad(http, enterpriseOptions, stack.AdminKey, InstanceTypes.Enterprise).RunAsync(PoolSamplers(stack));
        Console.WriteLine(alone.Report(enterpriseOptions));

        var floodOptions = options with { Clients = options.FloodClients, Label = $"trial instance flooding ({options.FloodClients} clients)" };
        var withFlood = new ChatLoad(http, enterpriseOptions with { Label = "enterprise instance while a trial instance floods" }, stack.AdminKey, InstanceTypes.Enterprise)
            .RunAsync(PoolSamplers(stack));
        var flood = new ChatLoad(http, floodOptions, stack.AdminKey, InstanceTypes.Trial).RunAsync();
        await Task.WhenAll(withFlood, flood);
        var flooded = await withFlood;
        Console.WriteLine(flooded.Report(enterpriseOptions with { Label = "enterprise instance while a trial instance floods" }));
        Console.WriteLine((await flood).Report(floodOptions));

        double P99(BenchResults r, string operation) => r.Percentile(operation, 0.99);
        return string.Create(CultureInfo.InvariantCulture,
            $"isolation: enterprise post p99 {P99(alone, "post"):F1} ms alone, {P99(flooded, "post"):F1} ms with the flood ({P99(flooded, "post") / P99(alone, "post"):F2}×); "
            + $"read p99 {P99(alone, "read"):F1} → {P99(flooded, "read"):F1} ms ({P99(flooded, "read") / P99(alone, "read"):F2}×); target ≤ 1.5×");
    }

    private static IMeasurementWindow[] PoolSamplers(BenchStack stack) =>
        stack.PgBouncer is { } pgBouncer ? [new PgBouncerPoolSampler(pgBouncer.Container, pgBouncer.StatsPassword)] : [];
}
