namespace IshChat.Cluster.Fencing;

/// <summary>When a silent primary is fenced (<see cref="PrimaryFencer"/>), each value with its reason.</summary>
public sealed record FencingSettings
{
    /// <summary>How often the leader is looked at: often enough that fencing follows the evidence within a second.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long one probe may take. Patroni's <c>/liveness</c> answers from memory in milliseconds; under heavy
    /// load a second; a probe still unanswered after two is counted as a miss.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// First vantage point, this process: the leader's Patroni REST API has answered no probe for this long
    /// (several probes in a row; one slow answer is not enough).
    /// </summary>
    public TimeSpan RestSilence { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Second vantage point, etcd's quorum: the leader has not renewed its lease for this long. Patroni renews it
    /// once per HA loop (every <c>loop_wait</c>, 2 s), so 5 s is two missed loops; etcd reports the remaining
    /// lease in whole seconds, so the real silence is at least 4 s.
    /// </summary>
    public TimeSpan LeaseSilence { get; init; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        if (ProbeInterval <= TimeSpan.Zero || ProbeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeInterval), "The probe interval and time-out must be positive.");
        }

        if (RestSilence < 2 * ProbeInterval || LeaseSilence < TimeSpan.FromSeconds(3))
        {
            throw new ArgumentOutOfRangeException(nameof(RestSilence), "Fencing on one missed probe or one missed Patroni loop would fence healthy primaries.");
        }
    }
}
