namespace IshChat.Api.Data;

/// <summary>
/// Exponential backoff with jitter (each delay uniform between a tenth of and the whole of min(cap, base·2ⁿ)), so the
/// replicas of the API don't retry in lockstep, within an overall budget that outlasts a
/// Patroni switchover: a switchover shows as latency, not as an error.
/// </summary>
public sealed record RetryPolicy(TimeSpan BaseDelay, TimeSpan MaxDelay, TimeSpan Budget)
{
    public static RetryPolicy Default { get; } = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

    /// <summary>The pause before retry number <paramref name="attempt"/> (1 = the first retry).</summary>
    public TimeSpan DelayBefore(int attempt, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        // A floor of a tenth of the ceiling keeps a retry from hammering a server that just went away.
        return TimeSpan.FromMilliseconds(ceiling * (0.1 + 0.9 * random.NextDouble()));
    }
}
