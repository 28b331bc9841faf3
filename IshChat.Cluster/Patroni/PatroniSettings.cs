namespace IshChat.Cluster.Patroni;

/// <summary>Patroni's dynamic configuration, written to the DCS at bootstrap.</summary>
public sealed record PatroniSettings
{
    /// <summary>
    /// Leader lease in seconds. 20 is Patroni's floor; a node that loses contact with etcd
    /// demotes itself before its lease runs out, so this bounds how long a dead leader blocks failover.
    /// </summary>
    public int TtlSeconds { get; init; } = 20;

    /// <summary>
    /// Seconds between HA loops. 2 instead of 10 lets replicas notice an expired lease and a
    /// crashed postgres within a couple of seconds; etcd easily carries 4 nodes at this rate.
    /// </summary>
    public int LoopWaitSeconds { get; init; } = 2;

    /// <summary>
    /// Seconds a DCS or postgres operation may retry before the leader demotes. Patroni needs
    /// loop_wait + 2 × retry_timeout ≤ ttl (2 + 2 × 5 = 12 ≤ 20), so the leader always gives up
    /// its role before the lease expires and another node can be promoted.
    /// </summary>
    public int RetryTimeoutSeconds { get; init; } = 5;

    /// <summary>
    /// Seconds a crashed primary gets to come back up before Patroni fails over. The default 300
    /// keeps writes down for five minutes; 10 covers crash recovery of a small database.
    /// </summary>
    public int PrimaryStartTimeoutSeconds { get; init; } = 10;

    /// <summary>A replica further behind than this (bytes) is not promoted in asynchronous mode.</summary>
    public long MaximumLagOnFailoverBytes { get; init; } = 1024 * 1024;

    public SynchronousMode SynchronousMode { get; init; } = SynchronousMode.Off;

    public int SynchronousNodeCount { get; init; } = 1;

    /// <summary>
    /// With failsafe mode a leader that loses etcd keeps running as long as it can reach every
    /// member through the REST API; off by default so that losing etcd quorum demotes the leader.
    /// </summary>
    public bool FailsafeMode { get; init; }

    public void Validate()
    {
        if (TtlSeconds < 20)
        {
            throw new ArgumentOutOfRangeException(nameof(TtlSeconds), TtlSeconds, "Patroni's ttl must be at least 20 seconds.");
        }

        if (LoopWaitSeconds < 1 || RetryTimeoutSeconds < 3)
        {
            throw new ArgumentOutOfRangeException(nameof(LoopWaitSeconds), "loop_wait must be ≥ 1 s and retry_timeout ≥ 3 s.");
        }

        if (LoopWaitSeconds + 2 * RetryTimeoutSeconds > TtlSeconds)
        {
            throw new ArgumentException($"loop_wait + 2 × retry_timeout ({LoopWaitSeconds} + 2 × {RetryTimeoutSeconds}) must not exceed ttl ({TtlSeconds}).");
        }

        if (SynchronousNodeCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SynchronousNodeCount), SynchronousNodeCount, "At least one synchronous node.");
        }
    }
}
