using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.HAProxy;

public static class HAProxyBuilderExtensions
{
    /// <summary>Adds HAProxy routing to <paramref name="cluster"/>'s leader (read-write) and replicas (read-only).</summary>
    public static IResourceBuilder<HAProxyResource> AddHAProxy(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<PatroniClusterResource> cluster)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(cluster);

        var haproxy = new HAProxyResource(name, cluster.Resource);
        var hostPorts = HostPorts.From(builder.Configuration);

        // Healthy only when the read-write port reaches a server that is not in recovery: a leader.
        var healthCheckKey = $"{name}_routes_to_leader";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => new PostgresQueryHealthCheck(
            async ct => $"Host={haproxy.ReadWriteEndpoint.Host};Port={haproxy.ReadWriteEndpoint.Port};Database=postgres;"
                + $"Username={ClusterRoles.Monitor};Password={await cluster.Resource.Secret(ClusterSecret.MonitorPassword).GetValueAsync(ct)}",
            "SELECT pg_is_in_recovery()",
            result => result is false ? null : "The read-write port reached a server in recovery."), HealthStatus.Unhealthy, tags: null));

        return builder.AddResource(haproxy)
            .WithClusterImage(ClusterImages.HAProxy)
                .WithDevelopmentContainerName()
            .WithEndpoint(port: hostPorts.HAProxyReadWrite, targetPort: ClusterPorts.HAProxyReadWrite, name: HAProxyResource.ReadWriteEndpointName, scheme: "tcp")
            .WithEndpoint(port: hostPorts.HAProxyReadOnly, targetPort: ClusterPorts.HAProxyReadOnly, name: HAProxyResource.ReadOnlyEndpointName, scheme: "tcp")
            .WithHttpEndpoint(port: hostPorts.HAProxyStats, targetPort: ClusterPorts.HAProxyStats, name: HAProxyResource.StatsEndpointName)
            .WithComponentEnvironment(
                () => ComponentEnvironment.HAProxy([.. cluster.Resource.Nodes.Select(n => n.Name)]),
                _ => throw new InvalidOperationException("HAProxy needs no secrets."))
            .WithHealthCheck(healthCheckKey)
            .WithUrlForEndpoint(HAProxyResource.StatsEndpointName, url => url.DisplayText = "HAProxy stats");
    }

    /// <summary>
    /// Adds a connection string to the IshChat database on the read-write port, bypassing PgBouncer:
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
