using IshChat.Cluster.Regions;

namespace IshChat.Cluster.Testcontainers;

public sealed record TestClusterOptions
{
    public int Replicas { get; init; } = 3;

    /// <summary>
    /// Node slots beyond the replicas, not started: HAProxy lists them from the start, and <see cref="PatroniTestCluster.Replicas"/>
    /// adds one live (a new container on the cluster's network) and removes it again, as the AppHost's spares.
    /// </summary>
    public int SpareReplicas { get; init; }

    public int EtcdMembers { get; init; } = 3;

    public PatroniSettings Patroni { get; init; } = new();

    public PgBouncerSettings PgBouncer { get; init; } = new();

    /// <summary>Release a killed leader's key at once (see <see cref="DeadLeaderReleaser"/>); off, failover waits for the lease.</summary>
    public bool ReleaseDeadLeaderKey { get; init; } = true;

    /// <summary>Kill a primary that is silent from two vantage points and release its key (see <see cref="PrimaryFencer"/>); off, it keeps its lease.</summary>
    public bool FenceSilentPrimary { get; init; } = true;

    public FencingSettings Fencing { get; init; } = new();

    /// <summary>Start a container that died again, as the AppHost does (see <see cref="ContainerSupervisor"/>).</summary>
    public bool SelfHealing { get; init; } = true;

    /// <summary>Adds the backup store and makes every node archive to it and able to back up and restore (docs/backup.md).</summary>
    public bool BackupStore { get; init; }

    /// <summary>
    /// Put before every container's name (<c>dr-</c> makes <c>dr-pg-0</c>, <c>dr-haproxy</c>): a second region's containers
    /// share the inter-region network with the first's, so their names must differ there.
    /// </summary>
    public string NamePrefix { get; init; } = "";

    /// <summary>Start as a standby cluster of the other region's router (<see cref="PatroniTestCluster.Region"/>): Patroni's <c>standby_cluster</c>.</summary>
    public StandbyClusterSettings? StandbyOf { get; init; }

    /// <summary>Patroni's scope, so two test clusters never share etcd keys even if wired wrong.</summary>
    public string Scope { get; init; } = $"ishchat-test-{Guid.NewGuid():N}"[..24];
}
