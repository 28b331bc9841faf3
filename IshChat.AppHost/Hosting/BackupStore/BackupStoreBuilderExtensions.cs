using System.Runtime.CompilerServices;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Backup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.BackupStore;

public static class BackupStoreBuilderExtensions
{
    public const string BackupNowCommand = "backup-now";

    public const string RestoreDrillCommand = "run-restore-drill";

    /// <summary>
    /// Configuration section that makes this run's cluster from the backup store instead of initdb:
    /// <c>Type</c> (latest, time, lsn, name, immediate), <c>Target</c> and, optionally, <c>Stanza</c> (the cluster's
    /// own, <see cref="Stanza"/>, unless set). The restored cluster goes on archiving into that stanza, on a new
    /// timeline. It needs the cluster's volumes gone (<c>eng/down.sh --cluster-volumes</c>): a node with data never bootstraps.
    /// </summary>
    public const string RestoreSection = "IshChat:Restore";

    /// <summary>How often a full backup is taken (a TimeSpan, e.g. <c>1.00:00:00</c>); the first one once a replica streams.</summary>
    public const string FullBackupIntervalKey = "IshChat:Backup:FullBackupInterval";

    /// <summary>How often a restore drill runs (a TimeSpan; a day by default); the first one after the first full backup.</summary>
    public const string RestoreDrillIntervalKey = "IshChat:Backup:RestoreDrillInterval";

    // The stanza a restored cluster continues (see RestoreSection), per cluster.
    private static readonly ConditionalWeakTable<PatroniClusterResource, string> stanzas = [];

    /// <summary>
    /// Adds the backup store: an Azure Blob endpoint (Azurite) whose data lives on a named volume, so backups outlive
    /// the AppHost. Its account key and the repository's encryption passphrase are secret parameters, generated on
    /// the first run and kept in user secrets: the backups stay readable across runs.
    /// </summary>
    public static IResourceBuilder<BackupStoreResource> AddBackupStore(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        // 88 letters and digits are a valid base64 string (66 bytes), which is what an Azure account key is.
        var storeKey = builder.AddResource(ParameterResourceBuilderExtensions.CreateGeneratedParameter(
            builder, $"{name}-key", secret: true, new GenerateParameterDefault { MinLength = 88, Special = false }));
        var passphrase = builder.AddResource(ParameterResourceBuilderExtensions.CreateGeneratedParameter(
            builder, $"{name}-cipher-passphrase", secret: true, new GenerateParameterDefault { MinLength = 40, Special = false }));
        var store = new BackupStoreResource(name, storeKey.Resource, passphrase.Resource);

        var healthCheckKey = $"{name}_container_reachable";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => new BackupStoreHealthCheck(store), HealthStatus.Unhealthy, tags: null));

        return builder.AddResource(store)
            .WithClusterImage(ClusterImages.BackupStore)
                .WithDevelopmentContainerName()
            // No fixed host port: only the cluster's nodes (and the health check) talk to it.
            .WithEndpoint(targetPort: BackupPorts.Store, name: BackupStoreResource.BlobEndpointName, scheme: "tcp")
            .WithDataVolume("/var/lib/backup-store", DataVolumeKind.Backups)
            .WithEnvironment(context =>
            {
                foreach (var (variable, value) in BackupEnvironment.Store(name))
                {
                    context.EnvironmentVariables[variable] = value.Secret is { } secret ? store.Secret(secret) : value.Literal!;
                }
            })
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>
    /// Makes every node of <paramref name="cluster"/> archive its WAL to <paramref name="store"/> (only the leader
    /// does, whichever node that is) and able to take and restore backups from it; nodes start once the store is
    /// healthy. Takes a full backup once a replica streams and then every <see cref="FullBackupIntervalKey"/> (a day by
    /// default; retention then expires what is older than the recovery window), and adds the cluster's "Back up now"
    /// command. Call after <c>WithReplicas</c>.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithBackups(
        this IResourceBuilder<PatroniClusterResource> cluster, IResourceBuilder<BackupStoreResource> store)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(store);

        var restore = cluster.ApplicationBuilder.Configuration.GetSection(RestoreSection);
        var restoreTarget = restore["Type"] is { Length: > 0 } type ? RestoreTarget.Parse(type, restore["Target"]) : null;
        if (restoreTarget is not null)
        {
            // A restored cluster is the same PostgreSQL system as the one backed up: it continues that stanza.
            if (restore["Stanza"] is { Length: > 0 } stanza)
            {
                stanzas.AddOrUpdate(cluster.Resource, stanza);
            }

            // A restore is Patroni's bootstrap, which a node with data (or an etcd that knows the cluster) never runs: the
            // run would silently start the old cluster instead. Refuse, naming the command that removes the volumes.
            DataVolumes.RequireNewClusterVolumes(cluster.ApplicationBuilder,
                $"{RestoreSection} makes a new cluster from the backups, but the cluster's volumes still hold the current one " +
                "(Patroni never bootstraps over existing data). Stop the AppHost and run `eng/down.sh --cluster-volumes` " +
                "(removes the cluster's volumes, keeps the backup store), then start the restore again.");
        }

        foreach (var node in cluster.Resource.Nodes)
        {
            cluster.ApplicationBuilder.CreateResourceBuilder(node)
                .WithEnvironment(context =>
                {
                    // The configured nodes, and a spare itself: a spare that is not running can't be reached, and
                    // pgBackRest's check and backup waited minutes for the two absent ones on every run.
                    var peers = cluster.Resource.Nodes.Where(n => !n.IsSpare || n == node).Select(n => n.Name);
                    var environment = BackupEnvironment.PatroniNode(
                        node.Name, [.. peers], store.Resource.Repository, Stanza(cluster.Resource))
                        .Concat(restoreTarget is null ? [] : BackupEnvironment.PointInTimeRestore(restoreTarget, archive: true));
                    foreach (var (variable, value) in environment)
                    {
                        context.EnvironmentVariables[variable] = value.Secret is { } secret ? store.Resource.Secret(secret) : value.Literal!;
                    }
                })
                .WaitFor(store);
        }

        var interval = cluster.ApplicationBuilder.Configuration.GetValue(FullBackupIntervalKey, TimeSpan.FromDays(1));
        return cluster.WithScheduledFullBackups(interval).WithFullBackupAfterStoreOutage(store).WithCommand(BackupNowCommand, "Back up now", context => BackUpNowAsync(cluster.Resource, context), new CommandOptions
        {
            Description = "Takes a full backup now (pgBackRest, copied from a replica when one is healthy).",
            IconName = "CloudArrowUp",
            UpdateState = context => cluster.Resource.LastObservedState?.Leader is null ? ResourceCommandState.Disabled : ResourceCommandState.Enabled,
        }).WithRestoreDrills(store);
    }

    /// <summary>
    /// Restore drills (docs/backup.md#restore-drills): the first after the first full backup, then every
    /// <see cref="RestoreDrillIntervalKey"/> (a day by default), and the cluster's "Run restore drill" command; each
    /// result goes to node_exporter's textfile collector, where the RestoreDrill* alerts watch it.
    /// </summary>
    private static IResourceBuilder<PatroniClusterResource> WithRestoreDrills(
        this IResourceBuilder<PatroniClusterResource> cluster, IResourceBuilder<BackupStoreResource> store)
    {
        var interval = cluster.ApplicationBuilder.Configuration.GetValue(RestoreDrillIntervalKey, TimeSpan.FromDays(1));
        var image = ClusterImages.Patroni.Reference(RepositoryLayout.FindFrom(cluster.ApplicationBuilder.AppHostDirectory));
        var drill = new ScheduledRestoreDrill(cluster.Resource, store.Resource, image);
        cluster.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster.Resource, (@event, _) =>
        {
            drill.Schedule(interval, FullBackup.FirstBackup(cluster.Resource), @event.Services, @event.Logger);
            return Task.CompletedTask;
        });
        return cluster.WithCommand(RestoreDrillCommand, "Run restore drill", async context =>
        {
            var result = await drill.RunAsync(context.Services, context.Logger, context.CancellationToken);
            return result.Succeeded ? CommandResults.Success() : CommandResults.Failure(result.Failure);
        }, new CommandOptions
        {
            Description = "Restores the newest backup and the archived WAL up to a fresh restore point into a throwaway container and checks it: consistency, pg_amcheck, row counts per instance.",
            IconName = "ArrowClockwise",
            UpdateState = context => cluster.Resource.LastObservedState?.Leader is null ? ResourceCommandState.Disabled : ResourceCommandState.Enabled,
        });
    }

    /// <summary>
    /// pgBackRest's stanza: the name of this cluster's backups in the repository, the cluster's scope
    /// (<c>ishchat-pg</c>). A stanza belongs to one PostgreSQL system; the nodes keep theirs on volumes across runs,
    /// so every run archives into the same stanza. A cluster restored from another stanza (<c>IshChat:Restore:Stanza</c>,
    /// e.g. an older per-run one) continues that one (docs/backup.md).
    /// </summary>
    public static string Stanza(PatroniClusterResource cluster) =>
        stanzas.TryGetValue(cluster, out var restored) ? restored : cluster.Scope;

    private static async Task<ExecuteCommandResult> BackUpNowAsync(PatroniClusterResource cluster, ExecuteCommandContext context)
    {
        var failure = await FullBackup.RunAsync(cluster, context.Services, context.Logger, context.CancellationToken);
        return failure is null ? CommandResults.Success() : CommandResults.Failure(failure);
    }
}
