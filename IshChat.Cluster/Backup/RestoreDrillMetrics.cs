namespace IshChat.Cluster.Backup;

/// <summary>
/// The restore drills' results as a node_exporter textfile (<see cref="FileName"/> in the directory node_exporter reads
/// with <c>--collector.textfile.directory</c>): node_exporter's textfile collector exists for exactly this, a batch
/// job's outcome, and Prometheus already scrapes it. The file is replaced atomically after every drill; the time of
/// the last successful drill survives failed ones, so "failed" and "not passed for 26 h" are separate alerts.
/// </summary>
public sealed class RestoreDrillMetrics(string directory)
{
    public const string FileName = "ishchat_restore_drill.prom";

    private readonly Lock gate = new();
    private DateTimeOffset? lastSuccess;

    public string Directory { get; } = directory;

    public string FilePath => Path.Combine(Directory, FileName);

    /// <summary>Writes <paramref name="result"/> (and the last success before it) to <see cref="FilePath"/>.</summary>
    public void Record(RestoreDrillResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        lock (gate)
        {
            if (result.Succeeded)
            {
                lastSuccess = result.Finished;
            }

            TextfileGauges.WriteAtomically(FilePath, Render(result, lastSuccess));
        }
    }

    /// <summary>The exposition text for <paramref name="result"/>, labelled with its stanza.</summary>
    public static string Render(RestoreDrillResult result, DateTimeOffset? lastSuccess)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new TextfileGauges(result.Stanza)
            .Gauge("ishchat_restore_drill_last_run_timestamp_seconds", "When the last restore drill finished (Unix time).", TextfileGauges.UnixSeconds(result.Finished))
            .Gauge("ishchat_restore_drill_success", "1 when the last restore drill passed every check, 0 when it failed.", result.Succeeded ? 1 : 0)
            .Gauge("ishchat_restore_drill_last_success_timestamp_seconds", "When a restore drill last passed (Unix time).", TextfileGauges.UnixSeconds(lastSuccess))
            .Gauge("ishchat_restore_drill_duration_seconds", "The last drill from start to end: target, restore, checks.", result.Duration.TotalSeconds)
            .Gauge("ishchat_restore_drill_restore_seconds", "Measured RTO: the last drill's restore, WAL replay and promotion.", result.RestoreDuration?.TotalSeconds)
            .Gauge("ishchat_restore_drill_recovery_gap_bytes", "Measured RPO: WAL bytes between the drill's target and where the restored copy stopped (0: reached).", result.RecoveryGapBytes)
            .ToString();
    }
}
