using Microsoft.Extensions.Configuration;
using IshChat.AppHost.Hosting.Alertmanager;
using IshChat.AppHost.Hosting.Api;
using IshChat.AppHost.Hosting.Azure;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.FaultInjection;
using IshChat.AppHost.Hosting.Grafana;
using IshChat.AppHost.Hosting.Healing;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.LegacyImport;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.Prometheus;
using IshChat.AppHost.Hosting.Redis;
using IshChat.AppHost.Hosting.Shared;
using IshChat.AppHost.Hosting.SinglePostgres;
using IshChat.ServiceDefaults;

// IshChat: the chat API on a highly available PostgreSQL cluster.
//
//   api ──► pgbouncer :6432 (transaction pooling) ──► haproxy :5000 rw / :5001 ro ──► pg-0..pg-3 (Patroni)
//    └────► redis :6379                                                              └──► etcd-0..etcd-2 (leader election)
// --single (or IshChat:SingleServer=true): api ──► one PostgreSQL :6432, same image, roles and schema; no HA (README).
var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
{
    // --headless: no dashboard, for CI and scripts; the cluster is the same. Removed from the
    // arguments because configuration would read a bare "--headless" as a key taking the next argument.
    Args = [.. args.Where(a => a is not ("--headless" or "--single"))],
    DisableDashboard = args.Contains("--headless"),
});
// Publish mode (a manifest, `--operation publish`) describes the Azure deployment, not these containers: docs/azure.md.
if (AzureDeployment.TryPublishForAzure(builder))
{
    return;
}

// Laptop-sized: one PostgreSQL through Aspire's AddPostgres, the same API behind it; no HA, no monitoring stack.
if (args.Contains("--single") || builder.Configuration.GetValue<bool>("IshChat:SingleServer"))
{
    var single = builder.AddSinglePostgres(ResourceNames.Postgres);
    var singleMigrations = builder.AddProject<Projects.IshChat_MigrationService>(ResourceNames.Migrations)
        .WithReference(single.AddRoleConnection(ResourceNames.ChatDatabaseMigrator, ClusterRoles.Migrator)).WaitFor(single);
    builder.AddChatApi(
        single.AddRoleConnection(ResourceNames.ChatDatabase, ClusterRoles.App),
        single.AddRoleConnection(ResourceNames.ChatDatabaseReadOnly, ClusterRoles.App),
        single.AddRoleConnection(ResourceNames.ChatDatabaseAdmin, ClusterRoles.Admin),
        single, builder.AddCache(ResourceNames.Redis), singleMigrations, replicas: 1);
    builder.AddSelfHealing();
    var singleApp = builder.Build();
    if (!builder.Configuration.GetValue<bool>("IshChat:ModelOnly"))
    {
        singleApp.Run();
    }

    return;
}

// Data outlives Ctrl+C: every etcd member, Patroni node and the backup store keep theirs on a named volume
// (ishchat-<resource>-data; wiping is `eng/down.sh --volumes`), so the next run starts the same cluster.

// TLS: the cluster's own CA, made on the first run and kept in user secrets; it signs every server's certificate.
var certificateAuthority = builder.AddCertificateAuthority(ResourceNames.CertificateAuthority);

// Leader election: three etcd members, so losing one changes nothing; TLS with client certificates only.
var etcd = builder.AddEtcdCluster(ResourceNames.Etcd, certificateAuthority, members: 3);

// Backups: an object store (Azure Blob API) on a named volume, for pgBackRest's WAL archive and base backups.
var backupStore = builder.AddBackupStore(ResourceNames.BackupStore);

// PostgreSQL 17: one Patroni leader and three streaming replicas, and two spare node slots that
// "Add replica" starts live (cloned from a replica) and "Remove replica" drains and stops again.
// A primary the container runtime confirms dead gives up its leader key at once; one that falls
// silent (frozen, cut off) is fenced (killed) and gives it up too; the dashboard can inject faults.
// The leader archives every WAL segment to the backup store; backups are taken on a replica.
// Ctrl+C stops the replicas first and the leader last, so nobody promotes itself on the way out.
// Commits wait for any one replica (quorum, ANY 1), so a failover loses no acknowledged message; it costs 6.7 % of
// posts/s against asynchronous (docs/failover.md). IshChat:SynchronousMode=off or on picks the others.
var postgres = builder.AddPatroniCluster(ResourceNames.Postgres, etcd, certificateAuthority)
    .WithReplicas(3).WithSpareReplicas(2)
    .WithSynchronousMode(builder.Configuration.GetValue("IshChat:SynchronousMode", SynchronousMode.Quorum))
    .WithBackups(backupStore)
    .WithDeadLeaderKeyRelease()
    .WithPrimaryFencing()
    .WithOrderedShutdown()
    .WithFaultInjectionCommands();

// Routing by Patroni's REST checks, then transaction pooling.
var haproxy = builder.AddHAProxy(ResourceNames.HAProxy, postgres);
var pgbouncer = builder.AddPgBouncer(ResourceNames.PgBouncer, haproxy);
var chatDb = pgbouncer.AddDatabase(ResourceNames.ChatDatabase, PgBouncerDatabases.ReadWrite);
var chatDbReadOnly = pgbouncer.AddDatabase(ResourceNames.ChatDatabaseReadOnly, PgBouncerDatabases.ReadOnly);
// The admin API's own role: the tenant role can neither list nor create instances or keys (docs/security.md).
var chatDbAdmin = pgbouncer.AddDatabase(ResourceNames.ChatDatabaseAdmin, PgBouncerDatabases.ReadWrite, ClusterRoles.Admin);
// A pool per instance type (trial, standard, enterprise), each capped: one plan's flood waits in its own queue.
var instanceTypePools = pgbouncer.AddInstanceTypeDatabases();

// Cache: TLS only, with a certificate from the cluster CA.
var redis = builder.AddCache(ResourceNames.Redis, certificateAuthority);

// Schema: applied once, as the schema's owner, over a real session (no pooler), before any API replica starts.
var migratorDb = haproxy.AddDatabase(ResourceNames.ChatDatabaseMigrator, ClusterRoles.Migrator);
var migrations = builder.AddProject<Projects.IshChat_MigrationService>(ResourceNames.Migrations)
    .WithReference(migratorDb).WaitFor(haproxy);

// Moving from SQLite (optional): with IshChat:LegacyImport:Sqlite set, that legacy file is imported once the
// schema is applied; the resource's commands plan, verify, sync and cut over.
builder.AddLegacyImport(ResourceNames.LegacyImport, haproxy, migrations);

// Services: two chat API replicas behind the same cluster.
var api = builder.AddChatApi(chatDb, chatDbReadOnly, chatDbAdmin, pgbouncer, redis, migrations, replicas: 2, instanceTypePools);

// Monitoring: Prometheus scrapes every component every 5 s (exporters where a server has no
// /metrics), evaluates the alert rules and sends alerts to Alertmanager; Grafana draws the dashboards.
var alertmanager = builder.AddAlertmanager(ResourceNames.Alertmanager);
var prometheus = builder.AddPrometheus(ResourceNames.Prometheus, alertmanager)
    .ScrapeEtcd(etcd).ScrapePatroni(postgres).ScrapeHAProxy(haproxy).ScrapePgBouncer(pgbouncer)
    .ScrapeRedis(redis).ScrapeHost().ScrapeProject(api).ScrapeBackups(postgres, backupStore);
builder.AddGrafana(ResourceNames.Grafana, prometheus);

// Nothing stays dead: a container that dies is started again, with back-off; a stop asked for is respected.
builder.AddSelfHealing();

builder.AddReadinessBanner(pgbouncer, postgres);

var app = builder.Build();

// HACK: the model tests resume this entry point after Build(), and Aspire's testing builder would
// then run the whole cluster once per test; asked for the model only, the AppHost stops here.
if (builder.Configuration.GetValue<bool>("IshChat:ModelOnly"))
{
    return;
}

app.Run();
