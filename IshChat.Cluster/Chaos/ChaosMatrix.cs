using IshChat.Cluster.Faults;

namespace IshChat.Cluster.Chaos;

/// <summary>
/// The chaos matrix (issue 11): every component in turn SIGKILLed, frozen for longer than the lease, and cut off the
/// network. The benchmark (bench/chaos.sh) runs all of it; the failover test runs <see cref="Representative"/>.
/// </summary>
public static class ChaosMatrix
{
    /// <summary>The three ways a component goes away: dead, alive but silent, alive but unreachable.</summary>
    public static IReadOnlyList<Fault> Faults { get; } = [Fault.Kill, Fault.Pause, Fault.Partition];

    /// <summary>
    /// A freeze or a partition lasts this long: past Patroni's lease (ttl 20 s), so a frozen leader's key would run
    /// out on its own, and past every client, pool and health-check time-out on the way.
    /// </summary>
    public static TimeSpan FaultDuration(PatroniSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return TimeSpan.FromSeconds(settings.TtlSeconds + 5);
    }

    /// <summary>
    /// Every component × every fault. The API replicas are processes on the host, not containers on the
    /// application's network: they can be killed and frozen, not cut off (there is no network of theirs to cut).
    /// </summary>
    public static IReadOnlyList<ChaosRow> Full(ChaosTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return [.. Components(topology).SelectMany(c => Faults.Where(f => Applies(c, f)).Select(f => new ChaosRow(c, f)))];
    }

    /// <summary>
    /// Five rows that cross every layer a request goes through, for CI: the leader killed (failover, the releaser),
    /// one PgBouncer frozen (the API's second host), one HAProxy cut off (PgBouncer's second host), Redis killed (the
    /// cache and the acknowledged-numbers mark), one API replica killed (the balancer in front of the API).
    /// </summary>
    public static IReadOnlyList<ChaosRow> Representative { get; } =
    [
        new(new ChaosComponent(ChaosTier.PatroniLeader), Fault.Kill),
        new(new ChaosComponent(ChaosTier.PgBouncer, 1), Fault.Pause),
        new(new ChaosComponent(ChaosTier.HAProxy, 1), Fault.Partition),
        new(new ChaosComponent(ChaosTier.Redis), Fault.Kill),
        new(new ChaosComponent(ChaosTier.Api, 1), Fault.Kill),
    ];

    /// <summary>
    /// The rows whose name contains any of <paramref name="filters"/> (comma-separated, case-insensitive, e.g.
    /// <c>leader,kill redis</c>); all of them when empty.
    /// </summary>
    public static IReadOnlyList<ChaosRow> Select(IReadOnlyList<ChaosRow> rows, string? filters)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var parts = (filters ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 0 ? rows : [.. rows.Where(r => parts.Any(p => r.Name.Contains(p, StringComparison.OrdinalIgnoreCase)))];
    }

    public static bool Applies(ChaosComponent component, Fault fault)
    {
        ArgumentNullException.ThrowIfNull(component);
        return !(component.Tier == ChaosTier.Api && fault == Fault.Partition);
    }

    private static IEnumerable<ChaosComponent> Components(ChaosTopology topology)
    {
        yield return new ChaosComponent(ChaosTier.PatroniLeader);
        if (topology.SynchronousMode != SynchronousMode.Off)
        {
            yield return new ChaosComponent(ChaosTier.PatroniSynchronousStandby);
        }

        // In quorum mode (ANY n of all replicas) every replica is a quorum standby: there is no asynchronous one to hit
        // (the first quorum run found none: "Sequence contains no matching element"). With one named standby there is.
        if (topology.SynchronousMode != SynchronousMode.Quorum)
        {
            yield return new ChaosComponent(ChaosTier.PatroniReplica);
        }

        foreach (var (tier, count) in new[] { (ChaosTier.Etcd, topology.EtcdMembers), (ChaosTier.PgBouncer, topology.PgBouncers), (ChaosTier.HAProxy, topology.HAProxies) })
        {
            for (var i = 0; i < count; i++)
            {
                yield return new ChaosComponent(tier, i);
            }
        }

        yield return new ChaosComponent(ChaosTier.Redis);
        for (var i = 0; i < topology.ApiReplicas; i++)
        {
            yield return new ChaosComponent(ChaosTier.Api, i);
        }
    }
}
