using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Tls;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.HAProxy;

public static class HAProxyBuilderExtensions
{
    /// <summary>
    /// Adds <paramref name="instances"/> identical HAProxy containers routing to <paramref name="cluster"/>'s leader
    /// (read-write) and replicas (read-only). Two by default: one router is a single point of failure.
    /// The first instance gets the developer's fixed host ports; the others random ones.
    /// </summary>
    public static IResourceBuilder<HAProxyResource> AddHAProxy(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<PatroniClusterResource> cluster, int instances = 2)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentOutOfRangeException.ThrowIfLessThan(instances, 1);

        var tier = new HAProxyResource(name, cluster.Resource);
        var hostPorts = HostPorts.From(builder.Configuration);
        // The tier's health is its instances' (filled below): healthy when every one routes to the leader.
        var tierHealthChecks = new List<IHealthCheck>();
        var tierHealthCheckKey = $"{name}_every_instance_routes_to_leader";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            tierHealthCheckKey, _ => new TierHealthCheck(tierHealthChecks, "HAProxy instances routing to the leader"), HealthStatus.Unhealthy, tags: null));
        var tierBuilder = builder.AddResource(tier)
            .WithStateOfMembers(() => tier.Instances)
            .WithHealthCheck(tierHealthCheckKey)
            .ExcludeFromManifest();

        for (var i = 0; i < instances; i++)
        {
            var instance = new HAProxyInstanceResource(ResourceNames.Instance(name, i), tier);
            tier.AddInstance(instance);
            cluster.Resource.AddRouter(instance);
            var first = i == 0;

            // Healthy only when the read-write port reaches a server that is not in recovery: a leader.
            var routesToLeader = new PostgresQueryHealthCheck(
                async ct => $"Host={instance.ReadWriteEndpoint.Host};Port={instance.ReadWriteEndpoint.Port};Database=postgres;"
                    + $"Username={ClusterRoles.Monitor};Password={await cluster.Resource.Secret(ClusterSecret.MonitorPassword).GetValueAsync(ct)};"
                    + HostTrust.NpgsqlOptions(await cluster.Resource.CertificateAuthority.HostFile.GetValueAsync(ct) ?? ""),
                "SELECT pg_is_in_recovery()",
                result => result is false ? null : "The read-write port reached a server in recovery.");
            tierHealthChecks.Add(routesToLeader);
            var healthCheckKey = $"{instance.Name}_routes_to_leader";
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => routesToLeader, HealthStatus.Unhealthy, tags: null));

            builder.AddResource(instance)
                .WithClusterImage(ClusterImages.HAProxy)
                .WithDevelopmentContainerName()
                .WithEndpoint(port: first ? hostPorts.HAProxyReadWrite : null, targetPort: ClusterPorts.HAProxyReadWrite, name: HAProxyInstanceResource.ReadWriteEndpointName, scheme: "tcp")
                .WithEndpoint(port: first ? hostPorts.HAProxyReadOnly : null, targetPort: ClusterPorts.HAProxyReadOnly, name: HAProxyInstanceResource.ReadOnlyEndpointName, scheme: "tcp")
                .WithHttpEndpoint(port: first ? hostPorts.HAProxyStats : null, targetPort: ClusterPorts.HAProxyStats, name: HAProxyInstanceResource.StatsEndpointName)
                // Every node slot, spares included: one that starts later is routed to once its checks pass.
                .WithComponentEnvironment(
                    () => ComponentEnvironment.HAProxy([.. cluster.Resource.Nodes.Select(n => n.Name)]),
                    _ => throw new InvalidOperationException("HAProxy needs no secrets."))
                // Its checks ask each node's REST API over HTTPS and verify the node's certificate with the cluster CA.
                .WithCertificateAuthorityCertificate(cluster.Resource.CertificateAuthority, ClusterImages.HAProxy)
                .WithHealthCheck(healthCheckKey)
                .WithUrlForEndpoint(HAProxyInstanceResource.StatsEndpointName, url => url.DisplayText = "HAProxy stats")
                .WithParentRelationship(tierBuilder);
        }

        return tierBuilder;
    }

    /// <summary>
    /// Adds a connection string to the IshChat database on every instance's read-write port, bypassing PgBouncer:
    /// session semantics, for the migration step's DDL.
    /// </summary>
    public static IResourceBuilder<HAProxyDatabaseResource> AddDatabase(
        this IResourceBuilder<HAProxyResource> builder, [ResourceName] string name, string role)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var password = builder.Resource.Cluster.Secret(ClusterRoles.PasswordOf(role));
        return builder.ApplicationBuilder.AddResource(new HAProxyDatabaseResource(name, role, password, builder.Resource));
    }
}
