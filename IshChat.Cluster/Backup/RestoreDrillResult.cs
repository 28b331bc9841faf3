namespace IshChat.Cluster.Backup;

/// <summary>
/// What the live cluster looked like at a drill's target: the restore point made on the leader, its write-ahead log
/// position and time, and every table's rows per instance committed before it.
/// </summary>
/// <param name="RowCounts">"schema.table instance" → rows; tables without an <c>instance_id</c> count as instance "-".</param>
public sealed record RestoreDrillTarget(string RestorePoint, string Lsn, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, long> RowCounts);

/// <summary>
/// One restore drill's outcome, as the metrics export it and the log tells it. <see cref="RestoreDuration"/> is the
/// measured recovery time (files restored, WAL replayed, promoted); <see cref="RecoveryGapBytes"/> the measured
/// recovery point: how far the restored copy stopped short of the target (0 when it reached it exactly).
/// </summary>
public sealed record RestoreDrillResult(
    string Stanza,
    DateTimeOffset Finished,
    TimeSpan Duration,
    string? Failure,
    RestoreDrillTarget? Target = null,
    string? RecoveredLsn = null,
    TimeSpan? RestoreDuration = null,
    long? RecoveryGapBytes = null)
{
    public bool Succeeded => Failure is null;

    public override string ToString() => Succeeded
        ? $"restore drill of {Stanza} passed: restore point {Target?.RestorePoint} ({Target?.Lsn}) reached in {RestoreDuration?.TotalSeconds:F1} s, "
          + $"{Target?.RowCounts.Count} table/instance row counts equal, pg_amcheck clean ({Duration.TotalSeconds:F1} s in all)"
        : $"restore drill of {Stanza} FAILED after {Duration.TotalSeconds:F1} s: {Failure}";
}
