using IshChat.AppHost.Hosting.Alertmanager;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.Exporters;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.Shared;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Jobs = IshChat.Cluster.Configuration.MonitoringEnvironment.Jobs;

namespace IshChat.AppHost.Hosting.Prometheus;

public static class PrometheusBuilderExtensions
{
    /// <summary>What containers call the host, mapped with Docker's host-gateway (the container tunnel is off here).</summary>
    internal const string ContainerHostName = "host.docker.internal";

    /// <summary>Every 5 s: alerts within seconds of a failover, at a load 2 cores carry easily.</summary>
    private static readonly TimeSpan scrapeInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds Prometheus, which scrapes itself and <paramref name="alertmanager"/> and sends it the alerts of
    /// containers/prometheus/rules. Add what it scrapes with the <c>Scrape…</c> methods.
    /// </summary>
    public static IResourceBuilder<PrometheusResource> AddPrometheus(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<AlertmanagerResource> alertmanager)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(alertmanager);

        // One folder per app host process, so a test run beside a developer's AppHost keeps its own targets.
        var fileTargets = Path.Combine(Path.GetTempPath(), "ishchat", $"{name}-targets-{Environment.ProcessId}");
        Directory.CreateDirectory(fileTargets);
        var prometheus = new PrometheusResource(name, fileTargets) { Alertmanager = alertmanager.Resource };
        prometheus.AddTargets(Jobs.Prometheus, [MonitoringEnvironment.Target(name, ClusterPorts.Prometheus)]);
        prometheus.AddTargets(Jobs.Alertmanager, [MonitoringEnvironment.Target(alertmanager.Resource.Name, ClusterPorts.Alertmanager)]);
        var hostPorts = HostPorts.From(builder.Configuration);

        return builder.AddResource(prometheus)
            .WithClusterImage(ClusterImages.Prometheus)
                .WithDevelopmentContainerName()
            .WithHttpEndpoint(port: hostPorts.Prometheus, targetPort: ClusterPorts.Prometheus, name: PrometheusResource.HttpEndpointName)
            .WithComponentEnvironment(
                () => MonitoringEnvironment.Prometheus(
                    prometheus.StaticJobs, prometheus.PostgresExporterTarget,
                    prometheus.Alertmanager is { } am ? MonitoringEnvironment.Target(am.Name, ClusterPorts.Alertmanager) : null,
                    scrapeInterval),
                _ => throw new InvalidOperationException("Prometheus needs no secrets."))
            .WithBindMount(fileTargets, MonitoringEnvironment.PrometheusFileTargetsDirectory, isReadOnly: true)
            // HACK: Aspire's container tunnel would route containers to host processes, but it is built from a
            // registry image and no registry is reachable (appsettings.json); Docker's host-gateway does the same.
            .WithContainerRuntimeArgs($"--add-host={ContainerHostName}:host-gateway")
            // /-/ready is 200 once the TSDB is open and the rules are loaded.
            .WithHttpHealthCheck("/-/ready", endpointName: PrometheusResource.HttpEndpointName)
            .WithUrlForEndpoint(PrometheusResource.HttpEndpointName, url => url.DisplayText = "Prometheus")
            .WithUrl(ReferenceExpression.Create($"{prometheus.HttpEndpoint}/targets"), "Scrape targets")
            .WithUrl(ReferenceExpression.Create($"{prometheus.HttpEndpoint}/alerts"), "Alert rules")
            .ExcludeFromManifest();
    }

    /// <summary>etcd's own <c>/metrics</c> on every member (its plain metrics port: the client port wants a client certificate): leader, proposals, fsync latency.</summary>
    public static IResourceBuilder<PrometheusResource> ScrapeEtcd(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<EtcdClusterResource> etcd)
    {
        ArgumentNullException.ThrowIfNull(etcd);
        builder.Resource.AddTargets(Jobs.Etcd, etcd.Resource.Members.Select(m => MonitoringEnvironment.Target(m.Name, ClusterPorts.EtcdMetrics)));
        return builder;
    }

    /// <summary>
    /// Patroni's <c>/metrics</c> on every node (role, timeline, lag in bytes, replay paused) and, through one
    /// postgres_exporter, PostgreSQL itself on every node (connections, replication lag, statements, WAL). Spare nodes
    /// are targets only while they run (<see cref="SpareScrapeTargets"/>).
    /// </summary>
    public static IResourceBuilder<PrometheusResource> ScrapePatroni(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<PatroniClusterResource> cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var nodes = cluster.Resource.Nodes.Where(n => !n.IsSpare).ToList();
        builder.Resource.AddTargets(Jobs.Patroni, nodes.Select(n => MonitoringEnvironment.Target(n.Name, ClusterPorts.PatroniRest)));
        builder.Resource.AddTargets(Jobs.Postgres, nodes.Select(n => MonitoringEnvironment.Target(n.Name, ClusterPorts.Postgres)));
        var exporter = cluster.AddPostgresExporter($"{cluster.Resource.Name}-exporter");
        builder.Resource.PostgresExporterTarget = exporter.Resource.ScrapeTarget;
        // Patroni's /metrics is HTTPS: Prometheus verifies each node's certificate with the cluster CA's.
        builder.WithCertificateAuthorityCertificate(cluster.Resource.CertificateAuthority, ClusterImages.Prometheus);

        var prometheus = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
        {
            var stopping = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Monitoring");
            var spares = new SpareScrapeTargets([.. cluster.Resource.Nodes.Where(n => n.IsSpare)], prometheus.FileTargetsDirectory, $"{cluster.Resource.Name}.json", logger);
            _ = spares.FollowAsync(@event.Services.GetRequiredService<ResourceNotificationService>(), stopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>HAProxy's built-in exporter on its stats port: backend servers up, sessions, queueing, errors.</summary>
    public static IResourceBuilder<PrometheusResource> ScrapeHAProxy(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<HAProxyResource> haproxy)
    {
        ArgumentNullException.ThrowIfNull(haproxy);
        builder.Resource.AddTargets(Jobs.HAProxy, [.. haproxy.Resource.Instances.Select(i => MonitoringEnvironment.Target(i.Name, ClusterPorts.HAProxyStats))]);
        return builder;
    }

    /// <summary>PgBouncer's pools through pgbouncer_exporter: client and server connections, waiting clients, caps.</summary>
    public static IResourceBuilder<PrometheusResource> ScrapePgBouncer(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<PgBouncerResource> pgbouncer)
    {
        ArgumentNullException.ThrowIfNull(pgbouncer);
        // pgbouncer_exporter reads one PgBouncer: one exporter per instance.
        var exporters = pgbouncer.Resource.Instances
            .Select(instance => pgbouncer.ApplicationBuilder.CreateResourceBuilder(instance).AddPgBouncerExporter($"{instance.Name}-exporter"))
            .ToList();
        builder.Resource.AddTargets(Jobs.PgBouncer, [.. exporters.Select(e => e.Resource.ScrapeTarget)]);
        return builder;
    }

    /// <summary>Redis through redis_exporter: memory, clients, keyspace hits and misses.</summary>
    public static IResourceBuilder<PrometheusResource> ScrapeRedis(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<RedisResource> redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var exporter = redis.AddRedisExporter($"{redis.Resource.Name}-exporter");
        builder.Resource.AddTargets(Jobs.Redis, [exporter.Resource.ScrapeTarget]);
        return builder;
    }

    /// <summary>
    /// The backups of <paramref name="cluster"/> in <paramref name="store"/> through pgbackrest_exporter: age, size and
    /// duration of the newest backups and the stanza's status. (The archiver's own counters come with PostgreSQL's
    /// metrics; the restore drills' results with node_exporter's textfile collector.)
    /// </summary>
    public static IResourceBuilder<PrometheusResource> ScrapeBackups(
        this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<PatroniClusterResource> cluster, IResourceBuilder<BackupStoreResource> store)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var exporter = cluster.AddPgBackRestExporter(store, $"{store.Resource.Name}-exporter");
        builder.Resource.AddTargets(Jobs.PgBackRest, [exporter.Resource.ScrapeTarget]);
        return builder;
    }

    /// <summary>The Docker host's disks, CPU and memory through node_exporter: where every container's data lives.</summary>
    public static IResourceBuilder<PrometheusResource> ScrapeHost(this IResourceBuilder<PrometheusResource> builder)
    {
        var exporter = builder.ApplicationBuilder.AddNodeExporter("node-exporter");
        builder.Resource.AddTargets(Jobs.Node, [exporter.Resource.ScrapeTarget]);
        return builder;
    }

    /// <summary>
    /// Every replica of <paramref name="project"/> at its own <c>/metrics</c>. The project gets a <c>metrics</c>
    /// endpoint that the Prometheus container can reach (it reaches the host's loopback-bound endpoints not at all):
    /// bound to the Docker host's gateway address only, the one host-gateway names, so nobody on the machine's own
    /// network reaches it (every interface only when the gateway can't be learnt). The app host keeps Prometheus's
    /// targets in step with the replicas.
    /// </summary>
    public static IResourceBuilder<PrometheusResource> ScrapeProject(this IResourceBuilder<PrometheusResource> builder, IResourceBuilder<ProjectResource> project)
    {
        ArgumentNullException.ThrowIfNull(project);
        const string endpointName = "metrics";
        project.WithHttpEndpoint(name: endpointName, env: null)
            .WithEndpoint(endpointName, e => e.TargetHost = MetricsListener.AnyAddress);

        var prometheus = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var stopping = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Monitoring");
            // Before the orchestrator binds anything: the endpoint's address is the gateway's from here on.
            var metrics = project.Resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == endpointName);
            if (await DockerCli.HostGatewayAddressAsync(cancellationToken) is { } gateway)
            {
                metrics.TargetHost = gateway;
            }
            else
            {
                logger.LogWarning("The Docker host's gateway address is unknown: {Project}'s metrics listener binds to every interface", project.Resource.Name);
            }

            var targets = new ApiScrapeTargets(prometheus.FileTargetsDirectory, $"{project.Resource.Name}.json", ContainerHostName, logger);
            _ = targets.FollowAsync(@event.Services.GetRequiredService<ResourceNotificationService>(), project.Resource, stopping);
            _ = stopping.Register(() => TryDelete(prometheus.FileTargetsDirectory));
        });

        return builder;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the next reboot's /tmp cleanup; it holds only a port list.
        }
    }
}
