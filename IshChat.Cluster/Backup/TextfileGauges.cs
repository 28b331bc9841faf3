using System.Globalization;
using System.Text;

namespace IshChat.Cluster.Backup;

/// <summary>
/// Gauges in Prometheus' exposition format for node_exporter's textfile collector (a batch job's outcome: the restore
/// drills', the backup repository's recovery window), written atomically so a scrape never reads half a file.
/// </summary>
public sealed class TextfileGauges(string stanza)
{
    private readonly StringBuilder text = new();
    private readonly string labels =
        $"{{stanza=\"{stanza.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"}}";

    /// <summary>Adds one gauge labelled with the stanza; a null value leaves it out (not known yet).</summary>
    public TextfileGauges Gauge(string name, string help, double? value)
    {
        if (value is { } v)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name}{labels} {v.ToString("R", CultureInfo.InvariantCulture)}\n");
        }

        return this;
    }

    public override string ToString() => text.ToString();

    /// <summary>Unix time in seconds, as Prometheus' timestamps are compared with <c>time()</c>.</summary>
    public static double? UnixSeconds(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> in one rename.</summary>
    public static void WriteAtomically(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
