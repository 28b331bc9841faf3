namespace IshChat.Cluster.Faults;

/// <summary>
/// The faults the cluster is built to survive, one list for the failover tests, the AppHost's dashboard
/// commands and the benchmarks. Each is done to one container by <see cref="FaultInjector"/>.
/// </summary>
public enum Fault
{
    /// <summary>SIGKILL of the whole container: a host lost with no warning. Repaired by starting it again.</summary>
    Kill,

    /// <summary>Graceful stop (SIGTERM, then SIGKILL after the grace period). Repaired by starting it again.</summary>
    Stop,

    /// <summary>SIGKILL of the postmaster only; the supervisor in the container (Patroni) stays up and restarts it.</summary>
    Crash,

    /// <summary>Every process frozen (cgroup freezer): alive but silent, so leases run out. Repaired by unpausing.</summary>
    Pause,

    /// <summary>Cut off the cluster's network: it runs on but reaches no one. Repaired by reconnecting.</summary>
    Partition,
}
