using System.Text.Json;

namespace IshChat.Cluster.Backup;

/// <summary>
/// How far back the repository can restore, from <c>pgbackrest --output=json info</c> of one stanza: the oldest backup
/// still kept is the first recoverability point (a restore needs a backup that ended before its target, then WAL).
/// pgbackrest_exporter has the backups only as labels; this makes the point a number that alerts and panels can use.
/// </summary>
public sealed record RecoveryWindow(string Stanza, int Backups, DateTimeOffset? FirstRecoverable, DateTimeOffset? NewestBackupEnded, string? ArchiveMin)
{
    public const string FileName = "ishchat_recovery_window.prom";

    /// <summary>The arguments to pgBackRest (after its stanza option) whose output <see cref="Parse"/> reads.</summary>
    public static readonly IReadOnlyList<string> InfoArguments = ["--output=json", "info"];

    /// <summary>Reads one stanza's entry of pgBackRest's JSON info (an array with one object per stanza).</summary>
    public static RecoveryWindow Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
        {
            throw new FormatException("pgBackRest's info names no stanza.");
        }

        var stanza = document.RootElement[0];
        var ends = stanza.TryGetProperty("backup", out var backups)
            ? backups.EnumerateArray().Select(b => DateTimeOffset.FromUnixTimeSeconds(b.GetProperty("timestamp").GetProperty("stop").GetInt64())).Order().ToList()
            : [];
        var archiveMin = stanza.TryGetProperty("archive", out var archives)
            ? archives.EnumerateArray().Select(a => a.TryGetProperty("min", out var min) ? min.GetString() : null).Where(m => m is not null).Min(StringComparer.Ordinal)
            : null;
        return new RecoveryWindow(
            stanza.GetProperty("name").GetString()!, ends.Count,
            ends.Count > 0 ? ends[0] : null, ends.Count > 0 ? ends[^1] : null, archiveMin);
    }

    /// <summary>The gauges node_exporter's textfile collector serves (<see cref="FileName"/>).</summary>
    public string Render() => new TextfileGauges(Stanza)
        .Gauge("ishchat_backup_count", "Backups kept in the repository (after retention).", Backups)
        .Gauge("ishchat_backup_first_recoverable_timestamp_seconds", "The first recoverability point: the oldest kept backup's end (Unix time).", TextfileGauges.UnixSeconds(FirstRecoverable))
        .Gauge("ishchat_backup_newest_end_timestamp_seconds", "When the newest kept backup ended (Unix time).", TextfileGauges.UnixSeconds(NewestBackupEnded))
        .ToString();

    /// <summary>Writes <see cref="Render"/> to <see cref="FileName"/> in <paramref name="directory"/>.</summary>
    public void Record(string directory) => TextfileGauges.WriteAtomically(Path.Combine(directory, FileName), Render());
}
