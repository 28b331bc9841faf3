namespace IshChat.Cluster.Patroni;

/// <summary>How replicas acknowledge commits.</summary>
public enum SynchronousMode
{
    /// <summary>Asynchronous: fastest commits; a failover may lose up to <see cref="PatroniSettings.MaximumLagOnFailoverBytes"/>.</summary>
    Off,

    /// <summary>One named synchronous standby confirms every commit; no acknowledged commit is lost on failover.</summary>
    On,

    /// <summary>Any <see cref="PatroniSettings.SynchronousNodeCount"/> of the replicas confirm (ANY n); no loss, and no single slow replica stalls commits.</summary>
    Quorum,
}
