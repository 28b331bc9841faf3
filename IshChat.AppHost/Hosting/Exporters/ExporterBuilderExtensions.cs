using Aspire.Hosting.ApplicationModel;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.Redis;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Backup;
using IshChat.Cluster.Tls;

namespace IshChat.AppHost.Hosting.Exporters;

/// <summary>The exporters Prometheus scrapes for servers without a <c>/metrics</c> endpoint of their own.</summary>
public static class ExporterBuilderExtensions
{
    /// <summary>
    /// One postgres_exporter for every node of <paramref name="cluster"/>: Prometheus probes each node
    /// through it (<c>/probe?target=pg-N:5432</c>) as the monitoring role, a member of pg_monitor.
    /// </summary>
    public static IResourceBuilder<ExporterResource> AddPostgresExporter(this IResourceBuilder<PatroniClusterResource> cluster, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return cluster.ApplicationBuilder.AddExporter(name, ClusterImages.PostgresExporter, ClusterPorts.PostgresExporter)
            .WithComponentEnvironment(MonitoringEnvironment.PostgresExporter, cluster.Resource.Secret)
            .WithCertificateAuthorityCertificate(cluster.Resource.CertificateAuthority, ClusterImages.PostgresExporter)
            .WithParentRelationship(cluster);
    }

    /// <summary>pgbouncer_exporter, reading <paramref name="pgbouncer"/>'s admin console (SHOW POOLS, SHOW DATABASES, SHOW STATS).</summary>
    public static IResourceBuilder<ExporterResource> AddPgBouncerExporter(this IResourceBuilder<PgBouncerInstanceResource> pgbouncer, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(pgbouncer);
        return pgbouncer.ApplicationBuilder.AddExporter(name, ClusterImages.PgBouncerExporter, ClusterPorts.PgBouncerExporter)
            .WithComponentEnvironment(() => MonitoringEnvironment.PgBouncerExporter(pgbouncer.Resource.Name), pgbouncer.Resource.Tier.Cluster.Secret)
            .WithCertificateAuthorityCertificate(pgbouncer.Resource.Tier.Cluster.CertificateAuthority, ClusterImages.PgBouncerExporter)
            // pgbouncer_exporter exits when PgBouncer's name does not resolve yet at its start.
            .WaitFor(pgbouncer)
            .WithParentRelationship(pgbouncer);
    }

    /// <summary>
    /// redis_exporter for <paramref name="redis"/>, with its password passed as a parameter reference. Where Redis serves
    /// the cluster CA's TLS, the exporter dials <c>rediss://</c> and verifies the server's name against that CA alone.
    /// </summary>
    public static IResourceBuilder<ExporterResource> AddRedisExporter(this IResourceBuilder<RedisResource> redis, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var exporter = redis.ApplicationBuilder.AddExporter(name, ClusterImages.RedisExporter, ClusterPorts.RedisExporter)
            .WithEnvironment("REDIS_ADDR", redis.Resource.PrimaryEndpoint.GetTlsValue(
                ReferenceExpression.Create($"rediss://{MonitoringEnvironment.Target(redis.Resource.Name, ClusterPorts.Redis)}"),
                ReferenceExpression.Create($"redis://{MonitoringEnvironment.Target(redis.Resource.Name, ClusterPorts.Redis)}")))
            .WithEnvironment("REDIS_EXPORTER_WEB_LISTEN_ADDRESS", MonitoringEnvironment.Target("", ClusterPorts.RedisExporter))
            .WithParentRelationship(redis);
        if (redis.Resource.CertificateAuthority() is { } authority)
        {
            exporter.WithCertificateAuthorityCertificate(authority, ClusterImages.RedisExporter)
                .WithEnvironment("REDIS_EXPORTER_TLS_CA_CERT_FILE", TlsFiles.PathOf(TlsFiles.CertificateAuthority));
        }

        if (redis.Resource.PasswordParameter is { } password)
        {
            exporter.WithEnvironment("REDIS_PASSWORD", password);
        }

        return exporter;
    }

    /// <summary>
    /// node_exporter reading the Docker host's filesystems through a read-only bind mount of
    /// <c>/</c>: PostgreSQL's data lives in the containers' layers on that host's disk. Its textfile
    /// collector reads <see cref="NodeExporterTextfiles"/>: the restore drills' results.
    /// </summary>
    public static IResourceBuilder<ExporterResource> AddNodeExporter(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddExporter(name, ClusterImages.NodeExporter, ClusterPorts.NodeExporter)
            .WithBindMount("/", "/host/root", isReadOnly: true)
            .WithBindMount(NodeExporterTextfiles.Directory, MonitoringEnvironment.NodeExporterTextfileDirectory, isReadOnly: true);
    }

    /// <summary>
    /// pgbackrest_exporter reading <paramref name="store"/>'s repository for <paramref name="cluster"/>'s stanza (only that
    /// one: the store keeps earlier runs' stanzas too): age, size and duration of the newest backups, the stanza's status.
    /// </summary>
    public static IResourceBuilder<ExporterResource> AddPgBackRestExporter(
        this IResourceBuilder<PatroniClusterResource> cluster, IResourceBuilder<BackupStoreResource> store, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(store);
        return cluster.ApplicationBuilder.AddExporter(name, ClusterImages.PgBackRestExporter, ClusterPorts.PgBackRestExporter)
            .WithEnvironment(context =>
            {
                foreach (var (variable, value) in BackupEnvironment.Standalone(store.Resource.Repository, BackupStoreBuilderExtensions.Stanza(cluster.Resource)))
                {
                    context.EnvironmentVariables[variable] = value.Secret is { } secret ? store.Resource.Secret(secret) : value.Literal!;
                }
            })
            .WaitFor(store)
            .WithParentRelationship(store);
    }

    private static IResourceBuilder<ExporterResource> AddExporter(this IDistributedApplicationBuilder builder, string name, ClusterImage image, int port) =>
        builder.AddResource(new ExporterResource(name, port))
            .WithClusterImage(image)
                .WithDevelopmentContainerName()
            .WithHttpEndpoint(targetPort: port, name: ExporterResource.MetricsEndpointName)
            .WithHttpHealthCheck("/metrics", endpointName: ExporterResource.MetricsEndpointName)
            .WithUrlForEndpoint(ExporterResource.MetricsEndpointName, url => url.DisplayText = "metrics")
            .ExcludeFromManifest();
}
