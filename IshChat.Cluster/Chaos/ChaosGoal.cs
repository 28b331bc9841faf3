namespace IshChat.Cluster.Chaos;

/// <summary>
/// What each row must achieve (issue 11). Always: no client-visible error, nothing stored twice, no sequence number
/// reused, no message hidden from a cursor poll. Acknowledged posts lost: never in synchronous or quorum mode; in
/// asynchronous mode only when the primary is hit, and no more than <c>maximum_lag_on_failover</c> holds.
/// </summary>
public sealed record ChaosGoal(SynchronousMode Mode, long MaximumLagOnFailoverBytes)
{
    /// <summary>
    /// A chat message's share of the WAL, rounded down on purpose (its row, the primary key and session-counter
    /// updates take more), so the bound on lost messages derived from it is generous rather than strict.
    /// </summary>
    public const int WalBytesPerMessageAtLeast = 200;

    public static ChaosGoal Of(PatroniSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new ChaosGoal(settings.SynchronousMode, settings.MaximumLagOnFailoverBytes);
    }

    /// <summary>How many acknowledged posts this row may lose.</summary>
    public long AllowedLoss(ChaosRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return Mode == SynchronousMode.Off && row.Component.IsPrimary ? MaximumLagOnFailoverBytes / WalBytesPerMessageAtLeast : 0;
    }

    /// <summary>Why <paramref name="outcome"/> misses the goal, one reason per miss; empty when it meets it.</summary>
    public IReadOnlyList<string> Misses(ChaosRow row, ChaosOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Failure is { } failure)
        {
            return [$"not run: {failure}"];
        }

        var misses = new List<string>();
        if (outcome.Errors > 0)
        {
            misses.Add($"{outcome.Errors} client-visible errors");
        }

        if (outcome.Lost > AllowedLoss(row))
        {
            misses.Add($"{outcome.Lost} acknowledged lost (allowed {AllowedLoss(row)})");
        }

        if (outcome.Duplicated > 0)
        {
            misses.Add($"{outcome.Duplicated} stored twice");
        }

        if (outcome.ReusedSequenceNumbers > 0)
        {
            misses.Add($"{outcome.ReusedSequenceNumbers} sequence numbers handed out for two messages");
        }

        if (outcome.MissedByCursorPolls > 0)
        {
            misses.Add($"{outcome.MissedByCursorPolls} messages never seen by a cursor poll");
        }

        return misses;
    }
}
