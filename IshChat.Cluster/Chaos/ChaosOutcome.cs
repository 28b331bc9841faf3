namespace IshChat.Cluster.Chaos;

/// <summary>
/// What clients saw while one row's fault ran, from the load generator and the Jepsen-style check afterwards:
/// requests that failed, the longest stretch without an acknowledged post and without a successful read, acknowledged
/// posts missing afterwards or stored twice, sequence numbers handed out for two different messages, and stored
/// messages a client polling <c>after=&lt;its cursor&gt;</c> never saw. <see cref="Resent"/> counts the requests a
/// client sent again because its connection was lost before any answer (the API replica serving it died): what a chat
/// app does without showing the user anything (a post again with the same client message id), so they are not errors,
/// but the table shows them.
/// </summary>
public sealed record ChaosOutcome(
    int Acknowledged,
    int Errors,
    TimeSpan LongestWritePause,
    TimeSpan LongestReadPause,
    int Lost,
    int Duplicated,
    int ReusedSequenceNumbers,
    int MissedByCursorPolls,
    int Resent = 0)
{
    /// <summary>The row could not be run (the fault could not be done, the system did not recover in time).</summary>
    public string? Failure { get; init; }

    public static ChaosOutcome NotRun(string failure) => new(0, 0, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 0, 0) { Failure = failure };
}
