using Microsoft.Extensions.Configuration;
using IshChat.AppHost.Hosting.Alertmanager;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.FaultInjection;
using IshChat.AppHost.Hosting.Grafana;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.Prometheus;
using IshChat.AppHost.Hosting.Shared;

// IshChat: the chat API on a highly available PostgreSQL cluster.
//
//   api ──► pgbouncer :6432 (transaction pooling) ──► haproxy :5000 rw / :5001 ro ──► pg-0..pg-3 (Patroni)
//    └────► redis :6379                                                              └──► etcd-0..etcd-2 (leader election)
var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
{
    // --headless: no dashboard, for CI and scripts; the cluster is the same. Removed from the
    // arguments because configuration would read a bare "--headless" as a key taking the next argument.
    Args = [.. args.Where(a => a != "--headless")],
    DisableDashboard = args.Contains("--headless"),
});
// Publish mode (a manifest, `--operation publish`) describes the Azure deployment, not these containers: docs/azure.md.
if (IshChat.AppHost.Hosting.Azure.AzureDeployment.TryPublishForAzure(builder)) { return; }
var hostPorts = HostPorts.From(builder.Configuration);

// Leader election: three etcd members, so losing one changes nothing.
var etcd = builder.AddEtcdCluster("etcd", members: 3);

// PostgreSQL 17: one Patroni leader and three streaming replicas. A primary the container
// runtime confirms dead gives up its leader key at once; the dashboard can inject faults.
var postgres = builder.AddPatroniCluster("pg", etcd)
    .WithReplicas(3)
    .WithDeadLeaderKeyRelease()
    .WithFaultInjectionCommands();

// Routing by Patroni's REST checks, then transaction pooling.
var haproxy = builder.AddHAProxy("haproxy", postgres);
var pgbouncer = builder.AddPgBouncer("pgbouncer", haproxy);
var chatDb = pgbouncer.AddDatabase("chatdb", PgBouncerDatabases.ReadWrite);
var chatDbReadOnly = pgbouncer.AddDatabase("chatdb-readonly", PgBouncerDatabases.ReadOnly);

// Cache.
var redis = builder.AddRedis("redis", port: hostPorts.Redis)
    .WithClusterImage(ClusterImages.Redis)
    .WithDevelopmentContainerName();

// Schema: applied once, as the schema's owner, over a real session (no pooler), before any API replica starts.
var migratorDb = haproxy.AddDatabase("chatdb-migrator", ClusterRoles.Migrator);
var migrations = builder.AddProject<Projects.IshChat_MigrationService>("migrations")
    .WithReference(migratorDb).WaitFor(haproxy);

// Services: two chat API replicas behind the same cluster.
var adminApiKey = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, "api-admin-key", special: false));
var api = builder.AddProject<Projects.IshChat_Api>("api")
    .WithReplicas(2)
    .WithReference(chatDb).WaitFor(pgbouncer)
    .WithReference(chatDbReadOnly)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Chat__AdminApiKey", adminApiKey)
    .WaitForCompletion(migrations);

// Monitoring: Prometheus scrapes every component every 5 s (exporters where a server has no
// /metrics), evaluates the alert rules and sends alerts to Alertmanager; Grafana draws the dashboards.
var alertmanager = builder.AddAlertmanager("alertmanager");
var prometheus = builder.AddPrometheus("prometheus", alertmanager)
    .ScrapeEtcd(etcd).ScrapePatroni(postgres).ScrapeHAProxy(haproxy).ScrapePgBouncer(pgbouncer)
    .ScrapeRedis(redis).ScrapeHost().ScrapeProject(api);
builder.AddGrafana("grafana", prometheus);

builder.AddReadinessBanner(pgbouncer, postgres);

var app = builder.Build();

// HACK: the model tests resume this entry point after Build(), and Aspire's testing builder would
// then run the whole cluster once per test; asked for the model only, the AppHost stops here.
if (builder.Configuration.GetValue<bool>("IshChat:ModelOnly"))
{
    return;
}

app.Run();
