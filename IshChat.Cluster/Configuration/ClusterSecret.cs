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
}
