using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.Cluster.Etcd;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;
using IshChat.ServiceDefaults;
using IshChat.Cluster.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Patroni;

public static class PatroniBuilderExtensions
{
    private const int MaxReplicas = 8;

    /// <summary>
    /// Adds a Patroni cluster electing its leader in <paramref name="etcd"/>, with one node; add
    /// streaming replicas with <see cref="WithReplicas"/>. Every password is an Aspire secret
    /// parameter, generated when unset. Every node serves TLS only, with a certificate <paramref name="certificateAuthority"/> issues.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> AddPatroniCluster(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<EtcdClusterResource> etcd,
        IResourceBuilder<CertificateAuthorityResource> certificateAuthority)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(etcd);
        ArgumentNullException.ThrowIfNull(certificateAuthority);

        var secrets = builder.AddClusterSecrets(name);

        var cluster = new PatroniClusterResource(name, etcd.Resource, secrets, certificateAuthority.Resource);
        var clusterBuilder = builder.AddResource(cluster)
            .WithStateOfMembers(() => cluster.Nodes)
            .WithClusterMonitor()
            .WithSwitchoverCommand()
            .WithRollingRestartCommand()
            .WithNodeImageUpdateCommand()
            .WithReplicaCommands()
            .WithConvergenceOnStart()
            .ExcludeFromManifest();

        // Patroni logs in to etcd as its own user, limited to its namespace; no node starts before etcd requires that.
        etcd.WithAuthentication(user => cluster.Secret(EtcdAuthentication.PasswordOf(user)), cluster.Scope, () => cluster.Nodes);
        AddNode(clusterBuilder, 0);
        return clusterBuilder;
    }

    /// <summary>Adds nodes until the cluster has one leader and <paramref name="replicas"/> streaming replicas.</summary>
    public static IResourceBuilder<PatroniClusterResource> WithReplicas(this IResourceBuilder<PatroniClusterResource> builder, int replicas)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicas, MaxReplicas);
        if (builder.Resource.Nodes.Any(n => n.IsSpare))
        {
            throw new InvalidOperationException("Call WithReplicas before WithSpareReplicas: spare slots come after the configured nodes.");
        }

        if (builder.Resource.Nodes.Count > replicas + 1)
        {
            throw new InvalidOperationException($"The cluster already has {builder.Resource.Nodes.Count - 1} replicas; WithReplicas only adds nodes.");
        }

        while (builder.Resource.Nodes.Count < replicas + 1)
        {
            AddNode(builder, builder.Resource.Nodes.Count);
        }

        return builder;
    }

    /// <summary>
    /// Declares <paramref name="spares"/> node slots beyond the replicas, each with its volume, not started (Aspire's explicit
    /// start): HAProxy and the backups list them from the start, a stopped spare is a normal state (not unhealthy, not
    /// scraped, no alert). The cluster's <b>Add replica</b> starts the next one live, cloned from a replica; <b>Remove
    /// replica</b> drains and stops the highest running node again (<see cref="ReplicaMembership"/>).
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithSpareReplicas(this IResourceBuilder<PatroniClusterResource> builder, int spares)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegative(spares);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(builder.Resource.Nodes.Count - 1 + spares, MaxReplicas, nameof(spares));
        if (builder.Resource.Nodes.Any(n => n.IsSpare))
        {
            throw new InvalidOperationException("The cluster already has spare slots; call WithSpareReplicas once.");
        }

        for (var i = 0; i < spares; i++)
        {
            AddNode(builder, builder.Resource.Nodes.Count, spare: true);
        }

        return builder;
    }

    /// <summary>
    /// Makes commits wait for <paramref name="synchronousNodeCount"/> replicas (<see cref="SynchronousMode.On"/>
    /// or <see cref="SynchronousMode.Quorum"/>), so failover never loses an acknowledged commit.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithSynchronousMode(
        this IResourceBuilder<PatroniClusterResource> builder, SynchronousMode mode, int synchronousNodeCount = 1) =>
        builder.WithPatroniSettings(s => s with { SynchronousMode = mode, SynchronousNodeCount = synchronousNodeCount });

    /// <summary>Changes Patroni's dynamic configuration (timings, failover lag, failsafe mode).</summary>
    public static IResourceBuilder<PatroniClusterResource> WithPatroniSettings(
        this IResourceBuilder<PatroniClusterResource> builder, Func<PatroniSettings, PatroniSettings> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = configure(builder.Resource.Settings);
        settings.Validate();
        builder.Resource.Settings = settings;
        return builder;
    }

    private static void AddNode(IResourceBuilder<PatroniClusterResource> clusterBuilder, int index, bool spare = false)
    {
        var builder = clusterBuilder.ApplicationBuilder;
        var cluster = clusterBuilder.Resource;
        var node = new PatroniNodeResource(ResourceNames.Instance(cluster.Name, index), index, cluster, spare);
        cluster.AddNode(node);
        var hostPorts = HostPorts.From(builder.Configuration);
        // Patroni's /health is 200 only while PostgreSQL is up and running, whatever its role; over HTTPS from the cluster CA.
        var healthCheckKey = $"{node.Name}_health";
        var health = new HttpsHealthCheck(() => node.RestUrlIfAllocated is { } rest ? new Uri(rest, "health") : null, cluster.CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(5)));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => health, HealthStatus.Unhealthy, tags: null));

        var nodeBuilder = builder.AddResource(node)
            .WithClusterImage(ClusterImages.Patroni)
                .WithDevelopmentContainerName()
            .WithEndpoint(targetPort: ClusterPorts.Postgres, name: PatroniNodeResource.PostgresEndpointName, scheme: "tcp")
            .WithHttpsEndpoint(port: HostPorts.Offset(hostPorts.PatroniRestFirstNode, index), targetPort: ClusterPorts.PatroniRest, name: PatroniNodeResource.RestEndpointName)
            // PGDATA (/var/lib/postgresql/data) outlives the AppHost: the next run starts the same PostgreSQL system.
            .WithDataVolume("/var/lib/postgresql", DataVolumeKind.Cluster)
            .WithComponentEnvironment(
                () => ComponentEnvironment.PatroniNode(node.Name, cluster.Scope, cluster.Etcd.MemberNames(), cluster.Settings),
                cluster.Secret)
            // Its own name and every router's: HAProxy passes TCP through, so clients dialling haproxy-N verify this certificate.
            // And a client certificate for etcd without a Common Name, which etcd's gateway refuses once its authentication is on.
            .WithServerCertificate(cluster.CertificateAuthority, ClusterImages.Patroni, () => ServerNames.PatroniNode(node.Name, cluster.Routers.Select(r => r.Name)),
                withEtcdClientCertificate: true)
            .WithHealthCheck(healthCheckKey)
            .WithNodeCommands()
            .WithParentRelationship(cluster);
        if (spare)
        {
            // Created only when "Add replica" (or the node's own Start) starts it: a spare costs nothing until then.
            nodeBuilder.WithExplicitStart();
        }
    }

    /// <summary>
    /// A REST client for commands and the monitor, authorised for Patroni's unsafe methods, trusting the cluster CA.
    /// Timeouts are per request inside PatroniRestClient: POST /failover takes as long as the promotion.
    /// </summary>
    internal static async Task<PatroniRestClient> CreateRestClientAsync(this PatroniClusterResource cluster, CancellationToken cancellationToken)
    {
        var password = await cluster.Secret(ClusterSecret.RestApiPassword).GetValueAsync(cancellationToken)
            ?? throw new InvalidOperationException("The Patroni REST API password has no value.");
        return new PatroniRestClient(cluster.CertificateAuthority.CreateHttpClient(Timeout.InfiniteTimeSpan), password);
    }
}
