using System.Globalization;
using System.Text;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// What a per-instance restore found and did in one table. Keys are the primary key's columns joined by '/', at most
/// 20 listed per kind (the counts are exact).
/// </summary>
/// <param name="Compared">False for a table the writing role cannot read: rows were put back where missing, not compared.</param>
/// <param name="Live">Rows of the instance live before the restore; null when the table is not readable.</param>
/// <param name="Reinserted">Rows at the target missing live, inserted again with their original ids.</param>
/// <param name="ChangedSinceTarget">Rows in both that differ; kept live unless overwritten.</param>
/// <param name="Overwritten">Of those, rows set back to the target's values (only with overwrite).</param>
/// <param name="CreatedAfterTarget">Rows only live: written after the target, always kept.</param>
/// <param name="Conflicts">Rows missing live whose reinsert another unique key refused (e.g. a reused client_message_id): skipped.</param>
public sealed record InstanceTableOutcome(
    string Table, bool Compared, long AtTarget, long? Live, long Reinserted, long Unchanged, long ChangedSinceTarget, long Overwritten,
    long CreatedAfterTarget, long Conflicts, IReadOnlyList<string> ChangedKeys, IReadOnlyList<string> CreatedKeys, IReadOnlyList<string> ConflictKeys)
{
    /// <summary>One line of counts, then the listed keys of every kind that has any.</summary>
    public string Summary(bool overwrite)
    {
        var text = new StringBuilder();
        if (!Compared)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{Table}: {AtTarget} at the target, {Reinserted} reinserted; the others already exist (the writing role may add these rows but not read them, so nothing is compared)");
        }

        text.Append(CultureInfo.InvariantCulture,
            $"{Table}: {AtTarget} at the target, {Live} live → {Reinserted} reinserted (missing live), {Unchanged} unchanged, ");
        if (overwrite)
        {
            text.Append(CultureInfo.InvariantCulture, $"{ChangedSinceTarget} changed since the target ({Overwritten} overwritten with the target's values), ");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{ChangedSinceTarget} changed since the target (kept live; --overwrite takes the target's), ");
        }

        text.Append(CultureInfo.InvariantCulture, $"{CreatedAfterTarget} created after the target (kept), {Conflicts} conflicts (skipped)");
        List(text, "changed since the target", ChangedSinceTarget, ChangedKeys);
        List(text, "created after the target", CreatedAfterTarget, CreatedKeys);
        List(text, "skipped, another unique key holds it live", Conflicts, ConflictKeys);
        return text.ToString();
    }

    private static void List(StringBuilder text, string what, long count, IReadOnlyList<string> keys)
    {
        if (count > 0)
        {
            text.AppendLine().Append(CultureInfo.InvariantCulture, $"    {what}: {string.Join(", ", keys)}{(count > keys.Count ? $" … and {count - keys.Count} more" : "")}");
        }
    }
}
