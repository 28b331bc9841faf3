using System.Globalization;
using System.Text;
using IshChat.Cluster.Backup;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>The whole outcome of one per-instance restore: what was restored, how, and each table's conflicts.</summary>
public sealed record InstanceRestoreReport(
    Guid InstanceId, RestoreTarget Target, bool Overwrite, bool DryRun, TimeSpan SideRestoreDuration, TimeSpan CopyDuration,
    IReadOnlyList<InstanceTableOutcome> Tables)
{
    public InstanceTableOutcome Table(string name) => Tables.Single(t => t.Table == name);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Instance {InstanceId} restored to {Target}{(DryRun ? " — DRY RUN, nothing written" : "")}; changed rows {(Overwrite ? "overwritten" : "kept")}.");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Side restore {SideRestoreDuration.TotalSeconds:F1} s, compare and copy {CopyDuration.TotalSeconds:F1} s.");
        foreach (var table in Tables)
        {
            text.AppendLine(table.Summary(Overwrite));
        }

        foreach (var (table, reason) in InstanceTables.NotRestored)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{table}: not restored ({reason})");
        }

        return text.ToString().TrimEnd();
    }
}
