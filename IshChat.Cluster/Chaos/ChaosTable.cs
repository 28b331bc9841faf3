using System.Globalization;
using System.Text;

namespace IshChat.Cluster.Chaos;

/// <summary>The benchmark's one table (markdown): component × fault → what clients saw, and whether the row met its goal.</summary>
public static class ChaosTable
{
    public static string Markdown(IEnumerable<(ChaosRow Row, ChaosOutcome Outcome)> results, ChaosGoal goal)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(goal);
        var table = new StringBuilder()
            .AppendLine("| component | fault | acknowledged | client-visible errors | resent after a lost connection | longest write pause (s) | longest read pause (s) | acknowledged lost | duplicates | seq reused | missed by cursor polls | goal |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (row, outcome) in results)
        {
            var misses = goal.Misses(row, outcome);
            var met = misses.Count == 0 ? "met" : "**missed**: " + string.Join("; ", misses);
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Component.Name} | {Faults.FaultDescription.Of(row.Fault).Verb} | {outcome.Acknowledged} | {outcome.Errors} | {outcome.Resent} | {outcome.LongestWritePause.TotalSeconds:F1} | {outcome.LongestReadPause.TotalSeconds:F1} | {outcome.Lost} | {outcome.Duplicated} | {outcome.ReusedSequenceNumbers} | {outcome.MissedByCursorPolls} | {met} |");
        }

        return table.ToString();
    }
}
