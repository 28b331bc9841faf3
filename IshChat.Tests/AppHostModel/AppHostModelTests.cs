using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.Cluster.Tls;
using IshChat.AppHost.Hosting.Prometheus;
using IshChat.AppHost.Hosting.FaultInjection;
using IshChat.Cluster.Faults;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.Tests.AppHostModel;

/// <summary>The AppHost's application model, inspected without starting anything (no Docker needed).</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class AppHostModelTests : IAsyncDisposable
{
    private DistributedApplication? app;

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    private async Task<DistributedApplicationModel> BuildModelAsync(params string[] settings)
    {
        // Model only: without it the entry point would go on to Run() the whole cluster for every test.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(["--IshChat:ModelOnly=true", .. settings]);
        app = await builder.BuildAsync();
        services = app.Services;
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }

    // xunit makes a new instance per test, so each test evaluates against its own application.
    private IServiceProvider services = null!;

    private Task<Dictionary<string, string>> EnvironmentOf(IResource resource) => ResourceEnvironment.EvaluateAsync(resource, services);

    [Fact]
    public async Task AppHostHasThreeEtcdMembersEachWithAHealthCheckAndACertificateForItsHttpsClientPort()
    {
        var model = await BuildModelAsync();

        var cluster = Assert.Single(model.Resources.OfType<EtcdClusterResource>());
        Assert.Equal(["etcd-0", "etcd-1", "etcd-2"], cluster.Members.Select(m => m.Name));
        Assert.All(cluster.Members, member =>
        {
            Assert.True(member.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), $"{member.Name} has no health check");
            Assert.Contains(member.Annotations.OfType<EndpointAnnotation>(),
                e => e.Name == EtcdMemberResource.ClientEndpointName && e.TargetPort == ClusterPorts.EtcdClient && e.UriScheme == "https");
            Assert.Contains(member.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == TlsFiles.Directory);
        });
    }

    [Fact]
    public async Task PatroniClusterHasALeaderAndThreeReplicasWithPostgresAndRestEndpoints()
    {
        var model = await BuildModelAsync();

        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());
        Assert.Equal(["pg-0", "pg-1", "pg-2", "pg-3", "pg-4", "pg-5"], cluster.Nodes.Select(n => n.Name));
        Assert.Equal(3, cluster.ConfiguredReplicas);
        Assert.All(cluster.Nodes, node =>
        {
            var endpoints = node.Annotations.OfType<EndpointAnnotation>().ToDictionary(e => e.Name);
            Assert.Equal(ClusterPorts.Postgres, endpoints[PatroniNodeResource.PostgresEndpointName].TargetPort);
            Assert.Equal(ClusterPorts.PatroniRest, endpoints[PatroniNodeResource.RestEndpointName].TargetPort);
            Assert.Equal("https", endpoints[PatroniNodeResource.RestEndpointName].UriScheme);
            Assert.True(node.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), $"{node.Name} has no health check");
        });
        Assert.True(cluster.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), "the cluster has no leader/replica health check");
    }

    [Fact]
    public async Task PatroniNodesElectTheirLeaderInAllThreeEtcdMembers()
    {
        var model = await BuildModelAsync();
        var node = model.Resources.OfType<PatroniNodeResource>().First();

        var environment = await EnvironmentOf(node);

        Assert.Equal("etcd-0:2379,etcd-1:2379,etcd-2:2379", environment["PATRONI_ETCD3_HOSTS"]);
        Assert.Equal(node.Name, environment["PATRONI_NAME"]);
        Assert.Equal("20", environment["ISHCHAT_PATRONI_TTL"]);
        Assert.Equal("quorum", environment["ISHCHAT_PATRONI_SYNCHRONOUS_MODE"]); // the default since it cost < 10 % of posts/s
    }

    [Fact]
    public async Task TwoHAProxiesRouteToEveryPatroniNodeOnReadWriteReadOnlyAndStatsPorts()
    {
        var model = await BuildModelAsync();
        var tier = Assert.Single(model.Resources.OfType<HAProxyResource>());

        Assert.Equal(2, tier.Instances.Count);
        Assert.Equal(tier.Instances, model.Resources.OfType<HAProxyInstanceResource>());
        Assert.True(tier.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _));
        foreach (var haproxy in tier.Instances)
        {
            // Its checks of Patroni's HTTPS REST API verify the nodes with the cluster CA's certificate, handed in as a file
            Assert.Contains(haproxy.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == TlsFiles.Directory);
            var environment = await EnvironmentOf(haproxy);
            var endpoints = haproxy.Annotations.OfType<EndpointAnnotation>().ToDictionary(e => e.Name, e => e.TargetPort);

            // The spares too: one that starts later is routed to without restarting HAProxy.
            Assert.Equal("pg-0,pg-1,pg-2,pg-3,pg-4,pg-5", environment["ISHCHAT_PATRONI_NODES"]);
            Assert.Equal(ClusterPorts.HAProxyReadWrite, endpoints[HAProxyInstanceResource.ReadWriteEndpointName]);
            Assert.Equal(ClusterPorts.HAProxyReadOnly, endpoints[HAProxyInstanceResource.ReadOnlyEndpointName]);
            Assert.Equal(ClusterPorts.HAProxyStats, endpoints[HAProxyInstanceResource.StatsEndpointName]);
            Assert.True(haproxy.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _));
        }
    }

    [Fact]
    public async Task TwoPgBouncersPoolInFrontOfEveryHAProxyAndWaitForThem()
    {
        var model = await BuildModelAsync();
        var tier = Assert.Single(model.Resources.OfType<PgBouncerResource>());

        Assert.Equal(2, tier.Instances.Count);
        foreach (var pgbouncer in tier.Instances)
        {
            var environment = await EnvironmentOf(pgbouncer);

            Assert.Equal("haproxy-0,haproxy-1", environment["ISHCHAT_PGBOUNCER_UPSTREAM_HOST"]);
            Assert.Equal("100", environment["ISHCHAT_PGBOUNCER_MAX_DB_CONNECTIONS"]);
            Assert.DoesNotContain("ISHCHAT_APP_PASSWORD", environment.Keys);
            Assert.Contains(pgbouncer.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == ResourceNames.HAProxy);
            Assert.True(pgbouncer.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _));
        }
    }

    [Fact]
    public async Task PrometheusScrapesEveryRouterInstanceAndTheCache()
    {
        var model = await BuildModelAsync();
        var prometheus = Assert.Single(model.Resources.OfType<PrometheusResource>());

        var environment = await EnvironmentOf(prometheus);

        Assert.Equal("haproxy-0:7000,haproxy-1:7000", environment["ISHCHAT_SCRAPE_HAPROXY"]);
        Assert.Equal("pgbouncer-0-exporter:9127,pgbouncer-1-exporter:9127", environment["ISHCHAT_SCRAPE_PGBOUNCER_EXPORTER"]);
        Assert.Equal("redis-exporter:9121", environment["ISHCHAT_SCRAPE_REDIS_EXPORTER"]);
    }

    [Fact]
    public async Task ApiConnectionStringsListEveryPgBouncerAndSpreadOverThem()
    {
        var model = await BuildModelAsync();
        var database = model.Resources.OfType<PgBouncerDatabaseResource>().Single(d => d.Name == ResourceNames.ChatDatabase);

        // Endpoints exist only once the app runs: check which instances the host list refers to.
        var expression = database.ConnectionStringExpression;
        var hosts = Assert.IsType<ReferenceExpression>(expression.ValueProviders[0]);
        var instances = hosts.ValueProviders.OfType<EndpointReferenceExpression>().Select(e => e.Endpoint.Resource.Name).Distinct();

        Assert.Equal(database.Parent.Instances.Select(i => i.Name), instances);
        Assert.Equal(2, database.Parent.Instances.Count);
        Assert.Contains(";Load Balance Hosts=true;", expression.Format);
    }

    [Fact]
    public async Task ApiReferencesTheReadWriteAndReadOnlyDatabasesAndRedis()
    {
        var model = await BuildModelAsync();
        var api = Assert.Single(model.Resources.OfType<ProjectResource>(), p => p.Name == ResourceNames.Api);
        var databases = model.Resources.OfType<PgBouncerDatabaseResource>().ToDictionary(d => d.Name);

        // Connection strings hold endpoints that exist only once the app runs: check what they point at instead.
        var references = api.Annotations.OfType<ResourceRelationshipAnnotation>().Where(r => r.Type == "Reference").Select(r => r.Resource.Name).ToList();

        Assert.Contains(ResourceNames.ChatDatabase, references);
        Assert.Contains(ResourceNames.ChatDatabaseReadOnly, references);
        Assert.Contains(ResourceNames.Redis, references);
        Assert.Equal((PgBouncerDatabases.ReadWrite, ClusterRoles.App), (databases[ResourceNames.ChatDatabase].DatabaseEntry, databases[ResourceNames.ChatDatabase].Role));
        Assert.Equal((PgBouncerDatabases.ReadOnly, ClusterRoles.App), (databases[ResourceNames.ChatDatabaseReadOnly].DatabaseEntry, databases[ResourceNames.ChatDatabaseReadOnly].Role));
        Assert.Contains(api.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == ResourceNames.PgBouncer);
    }

    [Fact]
    public async Task TheCacheServesOnlyTlsFromTheClusterCaAndTheApiAndTheExporterTrustThatCaAlone()
    {
        var model = await BuildModelAsync();
        var redis = Assert.Single(model.Resources.OfType<RedisResource>());

        // Redis: a certificate from the cluster CA, its TLS port where the plain one was, no plain port, our health check only
        Assert.Contains(redis.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == TlsFiles.Directory);
        var arguments = string.Join(' ', await ArgumentsOf(redis));
        Assert.Contains($"--port 0 --tls-port {ClusterPorts.Redis} --tls-cert-file {TlsFiles.PathOf(TlsFiles.Certificate)}", arguments, StringComparison.Ordinal);
        Assert.True(redis.TlsEnabled);
        Assert.Equal([$"{ResourceNames.Redis}_tls"], redis.Annotations.OfType<HealthCheckAnnotation>().Select(h => h.Key));

        // The API gets the CA's host file beside its ssl=true connection string
        var api = Assert.Single(model.Resources.OfType<ProjectResource>(), p => p.Name == ResourceNames.Api);
        var apiEnvironment = await RawEnvironmentOf(api);
        var certificateAuthorityFile = Assert.IsType<ReferenceExpression>(apiEnvironment["Redis__CertificateAuthorityFile"]);
        Assert.IsType<CertificateAuthorityFile>(Assert.Single(certificateAuthorityFile.ValueProviders));

        // The exporter dials rediss:// and verifies against the CA's file in its container, never skipping
        var exporter = Assert.Single(model.Resources.OfType<ContainerResource>(), r => r.Name == $"{ResourceNames.Redis}-exporter");
        var exporterEnvironment = await RawEnvironmentOf(exporter);
        Assert.Equal(TlsFiles.PathOf(TlsFiles.CertificateAuthority), exporterEnvironment["REDIS_EXPORTER_TLS_CA_CERT_FILE"]);
        Assert.DoesNotContain("REDIS_EXPORTER_SKIP_TLS_VERIFICATION", exporterEnvironment.Keys);
        Assert.Contains(exporter.Annotations.OfType<ContainerFileSystemCallbackAnnotation>(), a => a.DestinationPath == TlsFiles.Directory);
        Assert.StartsWith("rediss://", await Assert.IsAssignableFrom<IValueProvider>(exporterEnvironment["REDIS_ADDR"]).GetValueAsync(), StringComparison.Ordinal);
    }

    private static async Task<Dictionary<string, object>> RawEnvironmentOf(IResource resource)
    {
        var environment = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run));
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(environment);
        }

        return environment.EnvironmentVariables;
    }

    [Fact]
    public async Task EveryContainerUsesALocallyBuiltImageAndNeverPulls()
    {
        var model = await BuildModelAsync();

        Assert.All(model.Resources.OfType<ContainerResource>(), container =>
        {
            var image = container.Annotations.OfType<ContainerImageAnnotation>().Last();
            Assert.StartsWith("ishchat/", image.Image);
            Assert.Null(image.Registry);
            Assert.True(container.TryGetLastAnnotation<ContainerImagePullPolicyAnnotation>(out var pull), $"{container.Name} has no pull policy");
            Assert.Equal(ImagePullPolicy.Never, pull.ImagePullPolicy);
        });
    }

    [Fact]
    public async Task EveryClusterPasswordIsAGeneratedSecretParameter()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        Assert.Equal(Enum.GetValues<ClusterSecret>().Length, cluster.Secrets.Count);
        Assert.All(cluster.Secrets.Values, parameter =>
        {
            Assert.True(parameter.Secret, $"{parameter.Name} is not secret");
            Assert.Contains(parameter, model.Resources);
        });
    }

    [Fact]
    public async Task DashboardOffersSwitchoverOnTheClusterAndFailoverAndRestartOnEachNode()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        Assert.Contains(cluster.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "patroni-switchover");
        Assert.Contains(cluster.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "fault-kill-primary");
        Assert.All(cluster.Nodes, node =>
        {
            var commands = node.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).ToList();
            Assert.Contains("patroni-failover-to-node", commands);
            Assert.Contains("patroni-restart-postgres", commands);
            // Every fault of the shared list, and its repair where it has one.
            Assert.All(FaultDescription.All, fault =>
            {
                Assert.Contains(FaultInjectionCommands.Inject(fault.Fault), commands);
                Assert.Equal(fault.RepairVerb is not null, commands.Contains(FaultInjectionCommands.Repair(fault.Fault)));
            });
        });
    }

    [Fact]
    public async Task SpareNodesAreDeclaredWithTheirVolumesButStartOnlyWhenAReplicaIsAdded()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        var spares = cluster.Nodes.Where(n => n.IsSpare).ToList();

        Assert.Equal(["pg-4", "pg-5"], spares.Select(n => n.Name));
        Assert.All(spares, spare =>
        {
            Assert.True(spare.TryGetAnnotationsOfType<ExplicitStartupAnnotation>(out _), $"{spare.Name} would start with the AppHost");
            Assert.Contains(spare.Annotations.OfType<ContainerMountAnnotation>(), m => m.Type == ContainerMountType.Volume && m.Source == $"ishchat-{spare.Name}-data");
        });
        Assert.All(cluster.Nodes.Except(spares), node => Assert.False(node.TryGetAnnotationsOfType<ExplicitStartupAnnotation>(out _), $"{node.Name} waits to be started"));
        // Until one is added, the cluster is healthy without them.
        Assert.Equal(cluster.Nodes.Except(spares), cluster.ServingNodes);
    }

    [Fact]
    public void SpareSlotsComeAfterTheConfiguredReplicasAndStayWithinTheLimit()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var ca = builder.AddCertificateAuthority("ca");
        var cluster = builder.AddPatroniCluster("pg", builder.AddEtcdCluster("etcd", ca, members: 1), ca).WithReplicas(1).WithSpareReplicas(2);

        Assert.Equal(["pg-0", "pg-1", "pg-2", "pg-3"], cluster.Resource.Nodes.Select(n => n.Name));
        Assert.Equal([false, false, true, true], cluster.Resource.Nodes.Select(n => n.IsSpare));
        Assert.Equal(1, cluster.Resource.ConfiguredReplicas);
        Assert.Throws<InvalidOperationException>(() => cluster.WithReplicas(2));
        Assert.Throws<InvalidOperationException>(() => cluster.WithSpareReplicas(1));
    }

    [Fact]
    public async Task PrometheusScrapesTheConfiguredNodesStaticallyAndNoSpareUntilItRuns()
    {
        var model = await BuildModelAsync();
        var prometheus = Assert.Single(model.Resources.OfType<PrometheusResource>());

        // Static jobs only (the annotations' source): a spare is a target only while it runs, from file_sd/<job>/.
        Assert.Equal(["pg-0:8008", "pg-1:8008", "pg-2:8008", "pg-3:8008"], prometheus.StaticJobs[MonitoringEnvironment.Jobs.Patroni]);
        Assert.Equal(["pg-0:5432", "pg-1:5432", "pg-2:5432", "pg-3:5432"], prometheus.StaticJobs[MonitoringEnvironment.Jobs.Postgres]);
    }

    [Fact]
    public async Task DashboardOffersAddReplicaAndRemoveReplicaOnTheCluster()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        var commands = cluster.Annotations.OfType<ResourceCommandAnnotation>().ToDictionary(c => c.Name);

        Assert.Equal("Add replica", commands[ReplicaCommands.AddReplica].DisplayName);
        Assert.Equal("Remove replica", commands[ReplicaCommands.RemoveReplica].DisplayName);
        Assert.All([commands[ReplicaCommands.AddReplica], commands[ReplicaCommands.RemoveReplica]], c => Assert.False(string.IsNullOrEmpty(c.ConfirmationMessage)));
    }

    [Fact]
    public async Task DevelopmentHostPortsAreFixedSoPsqlFromTheHostJustWorks()
    {
        var model = await BuildModelAsync();
        var pgbouncer = Assert.Single(model.Resources.OfType<PgBouncerResource>()).Instances[0];
        var node0 = model.Resources.OfType<PatroniNodeResource>().Single(n => n.Index == 0);

        Assert.Equal(6432, pgbouncer.Annotations.OfType<EndpointAnnotation>().Single().Port);
        Assert.Equal(8008, node0.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == PatroniNodeResource.RestEndpointName).Port);
    }

    [Fact]
    public async Task WithoutALegacyFileThereIsNoLegacyImport() =>
        Assert.DoesNotContain((await BuildModelAsync()).Resources, r => r.Name == ResourceNames.LegacyImport);

    [Fact]
    public async Task AConfiguredLegacyFileIsImportedAsTheAdminAndImporterRolesThroughHAProxyWithTheToolsStepsAsCommands()
    {
        var model = await BuildModelAsync("--IshChat:LegacyImport:Sqlite=/data/legacy/acme.db", "--IshChat:LegacyImport:Instance=acme");

        var tool = Assert.Single(model.Resources.OfType<ProjectResource>(), r => r.Name == ResourceNames.LegacyImport);
        var arguments = await ArgumentsOf(tool);
        Assert.Equal(["import", "--sqlite", "/data/legacy/acme.db", "--instance", "acme", "--rejects", "/data/legacy/acme.db.rejects.jsonl"], arguments);
        // Endpoints exist only once the app runs: check what the connection refers to, not its value.
        var environment = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run));
        foreach (var callback in tool.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(environment);
        }

        var target = Assert.IsType<HAProxyDatabaseResource>(Assert.IsType<ConnectionStringReference>(environment.EnvironmentVariables["ISHCHAT_MIGRATE_CONNECTION"]).Resource);
        Assert.Equal(ClusterRoles.Admin, target.Role);
        var bulk = Assert.IsType<HAProxyDatabaseResource>(Assert.IsType<ConnectionStringReference>(environment.EnvironmentVariables["ISHCHAT_MIGRATE_IMPORTER_CONNECTION"]).Resource);
        Assert.Equal(ClusterRoles.Importer, bulk.Role);
        Assert.Equal(
            ["legacy-plan", "legacy-import", "legacy-verify", "legacy-sync", "legacy-cutover"],
            tool.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).Where(n => n.StartsWith("legacy-", StringComparison.Ordinal)));
        Assert.Contains(tool.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == ResourceNames.Migrations && w.WaitType == WaitType.WaitForCompletion);
    }

    private static async Task<List<string>> ArgumentsOf(IResource resource)
    {
        var context = new CommandLineArgsCallbackContext([], resource) { ExecutionContext = new(DistributedApplicationOperation.Run) };
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return [.. context.Args.Select(a => a?.ToString() ?? "")];
    }
}
