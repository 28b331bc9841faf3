using IshChat.ServiceDefaults;

namespace IshChat.Cluster.Chaos;

/// <summary>What kind of component a chaos row hits. Patroni nodes are chosen by the role they hold when the fault lands.</summary>
public enum ChaosTier
{
    PatroniLeader,
    PatroniSynchronousStandby,
    PatroniReplica,
    Etcd,
    PgBouncer,
    HAProxy,
    Redis,
    Api,
}

/// <summary>
/// One component of the running system: a tier and, for a group of identical instances, which one
/// (<c>etcd-1</c>, <c>pgbouncer-0</c>, the second API replica). A Patroni node has no index: the row names a role.
/// </summary>
public sealed record ChaosComponent(ChaosTier Tier, int? Index = null)
{
    /// <summary>Losing this one may lose acknowledged commits in asynchronous mode; nothing else may.</summary>
    public bool IsPrimary => Tier == ChaosTier.PatroniLeader;

    public string Name => Tier switch
    {
        ChaosTier.PatroniLeader => "Patroni leader",
        ChaosTier.PatroniSynchronousStandby => "Patroni synchronous standby",
        ChaosTier.PatroniReplica => "Patroni replica (asynchronous)",
        ChaosTier.Etcd => ResourceNames.Instance(ResourceNames.Etcd, Index ?? 0),
        ChaosTier.PgBouncer => ResourceNames.Instance(ResourceNames.PgBouncer, Index ?? 0),
        ChaosTier.HAProxy => ResourceNames.Instance(ResourceNames.HAProxy, Index ?? 0),
        ChaosTier.Redis => ResourceNames.Redis,
        ChaosTier.Api => $"{ResourceNames.Api} replica {Index ?? 0}",
        _ => Tier.ToString(),
    };

    public override string ToString() => Name;
}
