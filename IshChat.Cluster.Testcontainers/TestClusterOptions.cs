namespace IshChat.Cluster.Testcontainers;

public sealed record TestClusterOptions
{
    public int Replicas { get; init; } = 3;

    public int EtcdMembers { get; init; } = 3;

    public PatroniSettings Patroni { get; init; } = new();

    public PgBouncerSettings PgBouncer { get; init; } = new();

    /// <summary>Release a killed leader's key at once (see <see cref="DeadLeaderReleaser"/>); off, failover waits for the lease.</summary>
    public bool ReleaseDeadLeaderKey { get; init; } = true;

    /// <summary>Start a container that died again, as the AppHost does (see <see cref="ContainerSupervisor"/>).</summary>
    public bool SelfHealing { get; init; } = true;

    /// <summary>Patroni's scope, so two test clusters never share etcd keys even if wired wrong.</summary>
    public string Scope { get; init; } = $"ishchat-test-{Guid.NewGuid():N}"[..24];
}
