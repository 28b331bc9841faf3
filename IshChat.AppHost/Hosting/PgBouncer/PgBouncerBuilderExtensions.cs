using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.PgBouncer;

public static class PgBouncerBuilderExtensions
{
    /// <summary>Adds PgBouncer (transaction pooling) in front of <paramref name="haproxy"/>.</summary>
    public static IResourceBuilder<PgBouncerResource> AddPgBouncer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<HAProxyResource> haproxy, PgBouncerSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(haproxy);
        settings ??= new PgBouncerSettings();

        var cluster = haproxy.Resource.Cluster;
        var pgbouncer = new PgBouncerResource(name, cluster);
        var hostPorts = HostPorts.From(builder.Configuration);

        // Healthy only when a query through PgBouncer reaches PostgreSQL: auth_query, HAProxy and a leader all work.
        var healthCheckKey = $"{name}_answers_query";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => new PostgresQueryHealthCheck(
            async ct => $"Host={pgbouncer.PrimaryEndpoint.Host};Port={pgbouncer.PrimaryEndpoint.Port};Database={PgBouncerDatabases.ReadWrite};"
                + $"Username={ClusterRoles.Monitor};Password={await cluster.Secret(ClusterSecret.MonitorPassword).GetValueAsync(ct)}",
            "SELECT 1",
            result => result is 1 ? null : $"Unexpected answer {result}"), HealthStatus.Unhealthy, tags: null));

        return builder.AddResource(pgbouncer)
            .WithClusterImage(ClusterImages.PgBouncer)
                .WithDevelopmentContainerName()
            .WithEndpoint(port: hostPorts.PgBouncer, targetPort: ClusterPorts.PgBouncer, name: PgBouncerResource.PrimaryEndpointName, scheme: "tcp")
            .WithComponentEnvironment(() => ComponentEnvironment.PgBouncer(haproxy.Resource.Name, settings), cluster.Secret)
            .WithHealthCheck(healthCheckKey)
            .WaitFor(haproxy);
    }

    /// <summary>
    /// Adds a connection string to one of PgBouncer's database entries as the chat API's role.
    /// Use <see cref="PgBouncerDatabases.ReadWrite"/> for writes and <see cref="PgBouncerDatabases.ReadOnly"/> for replica reads.
    /// </summary>
    public static IResourceBuilder<PgBouncerDatabaseResource> AddDatabase(
        this IResourceBuilder<PgBouncerResource> builder, [ResourceName] string name, string databaseEntry = PgBouncerDatabases.ReadWrite, string role = ClusterRoles.App)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var secret = ClusterRoles.PasswordOf(role);

        var database = new PgBouncerDatabaseResource(name, databaseEntry, role, builder.Resource.Cluster.Secret(secret), builder.Resource);
        return builder.ApplicationBuilder.AddResource(database);
    }
}
