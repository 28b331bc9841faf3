using System.Numerics;
using System.Globalization;

namespace IshChat.Bench.Failover;

/// <summary>The benches' <c>--name value</c> arguments and the machine's load, printed beside every figure.</summary>
internal static class BenchArguments
{
    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/> when absent or below <paramref name="minimum"/>.</summary>
    public static T Number<T>(string[] args, string name, T fallback, T minimum) where T : struct, INumber<T> =>
        T.TryParse(args.SkipWhile(a => a != name).Skip(1).FirstOrDefault(), CultureInfo.InvariantCulture, out var value) && value >= minimum ? value : fallback;

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
