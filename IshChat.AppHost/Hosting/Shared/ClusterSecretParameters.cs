namespace IshChat.AppHost.Hosting.Shared;

internal static class ClusterSecretParameters
{
    /// <summary>
    /// One Aspire secret parameter per <see cref="ClusterSecret"/>, named <c>{name}-app-password</c> and so on, generated
    /// when unset and kept in the AppHost's user secrets. The HA cluster and the single server use the same names, so
    /// switching topology keeps every password.
    /// </summary>
    public static IReadOnlyDictionary<ClusterSecret, ParameterResource> AddClusterSecrets(this IDistributedApplicationBuilder builder, string name) =>
        Enum.GetValues<ClusterSecret>().ToDictionary(
            secret => secret,
            secret => builder.AddResource(
                // Letters and digits only: these passwords travel through connection strings, YAML and ini files.
                ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-{ParameterName(secret)}", special: false)).Resource);

    private static string ParameterName(ClusterSecret secret) => secret switch
    {
        ClusterSecret.SuperuserPassword => "superuser-password",
        ClusterSecret.ReplicationPassword => "replication-password",
        ClusterSecret.RewindPassword => "rewind-password",
        ClusterSecret.RestApiPassword => "restapi-password",
        ClusterSecret.AppPassword => "app-password",
        ClusterSecret.AdminPassword => "admin-password",
        ClusterSecret.ImporterPassword => "importer-password",
        ClusterSecret.MigratorPassword => "migrator-password",
        ClusterSecret.MonitorPassword => "monitor-password",
        ClusterSecret.PgBouncerAuthPassword => "pgbouncer-auth-password",
        ClusterSecret.PgBouncerStatsPassword => "pgbouncer-stats-password",
        ClusterSecret.EtcdRootPassword => "etcd-root-password",
        ClusterSecret.EtcdPatroniPassword => "etcd-patroni-password",
        ClusterSecret.EtcdHostPassword => "etcd-host-password",
        _ => throw new ArgumentOutOfRangeException(nameof(secret), secret, null),
    };
}
