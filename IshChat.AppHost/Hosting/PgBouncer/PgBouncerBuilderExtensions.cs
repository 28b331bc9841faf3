using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Tls;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.PgBouncer;

public static class PgBouncerBuilderExtensions
{
    /// <summary>
    /// Adds <paramref name="instances"/> identical PgBouncers (transaction pooling), each reaching the leader and the
    /// replicas through every HAProxy instance of <paramref name="haproxy"/>. Two by default: one pooler is a single
    /// point of failure. The first instance gets the developer's fixed host port (6432); the others random ones.
    /// </summary>
    public static IResourceBuilder<PgBouncerResource> AddPgBouncer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<HAProxyResource> haproxy,
        int instances = 2, PgBouncerSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(haproxy);
        ArgumentOutOfRangeException.ThrowIfLessThan(instances, 1);
        settings ??= new PgBouncerSettings();

        var cluster = haproxy.Resource.Cluster;
        var tier = new PgBouncerResource(name, cluster);
        var hostPorts = HostPorts.From(builder.Configuration);

        // The tier's health is its instances' (filled below): healthy when every one answers a query.
        var tierHealthChecks = new List<IHealthCheck>();
        var tierHealthCheckKey = $"{name}_every_instance_answers_query";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            tierHealthCheckKey, _ => new TierHealthCheck(tierHealthChecks, "PgBouncer instances answering a query"), HealthStatus.Unhealthy, tags: null));
        var tierBuilder = builder.AddResource(tier)
            .WithStateOfMembers(() => tier.Instances)
            .WithHealthCheck(tierHealthCheckKey)
            .ExcludeFromManifest();

        for (var i = 0; i < instances; i++)
        {
            var instance = new PgBouncerInstanceResource(ResourceNames.Instance(name, i), tier);
            tier.AddInstance(instance);

            // Healthy only when a query through PgBouncer reaches PostgreSQL: auth_query, HAProxy and a leader all work.
            var answersQuery = new PostgresQueryHealthCheck(
                async ct => $"Host={instance.PrimaryEndpoint.Host};Port={instance.PrimaryEndpoint.Port};Database={PgBouncerDatabases.ReadWrite};"
                    + $"Username={ClusterRoles.Monitor};Password={await cluster.Secret(ClusterSecret.MonitorPassword).GetValueAsync(ct)};"
                    + HostTrust.NpgsqlOptions(await cluster.CertificateAuthority.HostFile.GetValueAsync(ct) ?? ""),
                "SELECT 1",
                result => result is 1 ? null : $"Unexpected answer {result}");
            tierHealthChecks.Add(answersQuery);
            var healthCheckKey = $"{instance.Name}_answers_query";
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => answersQuery, HealthStatus.Unhealthy, tags: null));

            builder.AddResource(instance)
                .WithClusterImage(ClusterImages.PgBouncer)
                .WithDevelopmentContainerName()
                .WithEndpoint(port: i == 0 ? hostPorts.PgBouncer : null, targetPort: ClusterPorts.PgBouncer, name: PgBouncerInstanceResource.PrimaryEndpointName, scheme: "tcp")
                .WithComponentEnvironment(() => ComponentEnvironment.PgBouncer([.. haproxy.Resource.Instances.Select(h => h.Name)], settings), cluster.Secret)
                .WithServerCertificate(cluster.CertificateAuthority, ClusterImages.PgBouncer, () => ServerNames.PgBouncer(instance.Name, name))
                .WithHealthCheck(healthCheckKey)
                .WaitFor(haproxy)
                .WithParentRelationship(tierBuilder);
        }

        return tierBuilder;
    }

    /// <summary>
    /// Adds a connection string to one of PgBouncer's database entries, over every instance, as the chat API's role.
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

    /// <summary>
    /// Adds connection strings to every instance type's own pools, read-write and read-only (<c>chatdb-trial</c> →
    /// entry <c>ishchat_trial</c> …), so the API can send each instance's transactions to its type's pool.
    /// </summary>
    public static IReadOnlyList<IResourceBuilder<PgBouncerDatabaseResource>> AddInstanceTypeDatabases(this IResourceBuilder<PgBouncerResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IResourceBuilder<PgBouncerDatabaseResource> Pool(string type, bool readOnly) =>
            builder.AddDatabase(ResourceNames.ChatDatabaseFor(type, readOnly), PgBouncerDatabases.ForInstanceType(type, readOnly));
        return [.. InstanceTypes.All.SelectMany(type => (IResourceBuilder<PgBouncerDatabaseResource>[])[Pool(type, readOnly: false), Pool(type, readOnly: true)])];
    }
}
