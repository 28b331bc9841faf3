using System.Globalization;
using System.Text.RegularExpressions;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// How far a side restore is: the files pgBackRest has restored (count, bytes, its own percentage and the ETA that
/// follows from it), then the WAL replay to the target.
/// </summary>
public sealed partial record SideRestoreProgress(string Phase, int Files, long Bytes, double? Percent, TimeSpan Elapsed)
{
    public const string RestoringFiles = "restoring files";
    public const string ReplayingWal = "replaying WAL to the target";

    /// <summary>Remaining time at the pace so far, once pgBackRest has reported a percentage worth extrapolating.</summary>
    public TimeSpan? Eta => Percent is > 1 and < 100 ? Elapsed * ((100 - Percent.Value) / Percent.Value) : null;

    public override string ToString() => Phase == RestoringFiles
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Phase}: {Files} files, {Bytes / 1048576.0:F1} MiB{(Percent is { } p ? $", {p:F0} %" : "")}{(Eta is { } eta ? $", ETA {eta.TotalSeconds:F0} s" : "")} ({Elapsed.TotalSeconds:F0} s)")
        : string.Create(CultureInfo.InvariantCulture, $"{Phase} ({Elapsed.TotalSeconds:F0} s)");

    /// <summary>
    /// The size and percentage in one of pgBackRest's <c>detail</c> lines for a restored file, e.g.
    /// <c>P02 DETAIL: restore file /var/lib/postgresql/data/base/5/1249 (bundle 1/32, 440KB, 12.34%) checksum …</c> (small
    /// files come in bundles; large ones without the bundle part); null for other lines.
    /// </summary>
    public static (long Bytes, double? Percent)? ParseRestoredFile(string line)
    {
        var match = RestoredFile().Match(line);
        if (!match.Success)
        {
            return null;
        }

        var number = double.Parse(match.Groups["size"].Value, CultureInfo.InvariantCulture);
        var bytes = (long)(number * match.Groups["unit"].Value switch
        {
            "KB" => 1024d,
            "MB" => 1024d * 1024,
            "GB" => 1024d * 1024 * 1024,
            "TB" => 1024d * 1024 * 1024 * 1024,
            _ => 1d,
        });
        double? percent = match.Groups["percent"].Success ? double.Parse(match.Groups["percent"].Value, CultureInfo.InvariantCulture) : null;
        return (bytes, percent);
    }

    [GeneratedRegex(@"restore file \S+ \((?:bundle [0-9/]+, )?(?<size>[0-9.]+)(?<unit>[KMGT]?B)(?:, (?<percent>[0-9.]+)%)?\)")]
    private static partial Regex RestoredFile();
}
