namespace IshChat.Cluster.Configuration;

/// <summary>
/// The cluster's passwords. The AppHost maps each to an Aspire secret parameter (generated
/// when unset); the Testcontainers suite generates them per run. Nothing here holds a value.
/// </summary>
public enum ClusterSecret
{
    SuperuserPassword,
    ReplicationPassword,
    RewindPassword,
    RestApiPassword,
    AppPassword,
    AdminPassword,
    ImporterPassword,
    MigratorPassword,
    MonitorPassword,
    PgBouncerAuthPassword,
    PgBouncerStatsPassword,

    /// <summary>etcd's root user: only the AppHost and the test cluster hold it, to set etcd's users up (EtcdAuthentication).</summary>
    EtcdRootPassword,

    /// <summary>Patroni's etcd user: read and write in Patroni's namespace only.</summary>
    EtcdPatroniPassword,

    /// <summary>The host processes' etcd user (fencer, dead-leader releaser, ordered shutdown).</summary>
    EtcdHostPassword,
}
