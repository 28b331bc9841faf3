using System.Runtime.CompilerServices;
using System.Text.Json;
using IshChat.AppHost.Hosting.Exporters;
using IshChat.Cluster.Backup;
using IshChat.AppHost.Hosting.Shared;
using IshChat.AppHost.Hosting.Patroni;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.BackupStore;

/// <summary>
/// A full pgBackRest backup of the cluster, run in a streaming replica's container (so the files are read there and
/// the primary only starts and stops the backup), and the schedule that takes one regularly.
/// </summary>
internal static class FullBackup
{
    // A backup of a large database takes a while; a hung one should not block the next forever.
    private static readonly TimeSpan backupTimeout = TimeSpan.FromHours(6);

    // Completed by the cluster's first successful backup: until then a restore drill has nothing to restore.
    private static readonly ConditionalWeakTable<PatroniClusterResource, TaskCompletionSource> firstBackups = [];

    /// <summary>Completes once a full backup of <paramref name="cluster"/> succeeded in this run.</summary>
    public static Task FirstBackup(PatroniClusterResource cluster) =>
        firstBackups.GetValue(cluster, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Takes a full backup now; null when it succeeded, else why not. pgBackRest's output goes to <paramref name="logger"/>.</summary>
    public static async Task<string?> RunAsync(PatroniClusterResource cluster, IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        var members = cluster.LastObservedState?.Members ?? [];
        var source = members.FirstOrDefault(m => m.IsStreamingReplica) ?? cluster.LastObservedState?.Leader;
        if (source is null || cluster.Nodes.FirstOrDefault(n => n.Name == source.Name) is not { } node)
        {
            return "The cluster has no leader right now.";
        }

        var notifications = services.GetRequiredService<ResourceNotificationService>();
        if (await notifications.ContainerIdAsync(node, cancellationToken) is not { } containerId)
        {
            return $"{node.Name} has no container right now.";
        }

        logger.LogInformation("Full backup of stanza {Stanza} from {Node}", BackupStoreBuilderExtensions.Stanza(cluster), node.Name);
        var result = await DockerCli.ExecuteAsync(
            ["exec", containerId, "pgbackrest", $"--stanza={BackupStoreBuilderExtensions.Stanza(cluster)}", "--type=full", "backup"],
            line => logger.LogInformation("{Line}", line), backupTimeout, logger, cancellationToken);
        if (!result.Succeeded)
        {
            return $"pgbackrest backup on {node.Name} failed (exit {result.ExitCode}); see the log.";
        }

        firstBackups.GetValue(cluster, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        await RecordRecoveryWindowAsync(cluster, containerId, logger, cancellationToken);
        return null;
    }

    /// <summary>
    /// The repository's recovery window after the backup and the expire that ends it, for the textfile collector
    /// (<see cref="RecoveryWindow"/>). A failure here costs the gauge an update, never the backup.
    /// </summary>
    private static async Task RecordRecoveryWindowAsync(PatroniClusterResource cluster, string containerId, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var info = await DockerCli.ExecuteAsync(
                ["exec", containerId, "pgbackrest", $"--stanza={BackupStoreBuilderExtensions.Stanza(cluster)}", .. RecoveryWindow.InfoArguments],
                cancellationToken: cancellationToken);
            var window = RecoveryWindow.Parse(info.EnsureSucceeded());
            window.Record(NodeExporterTextfiles.Directory);
            logger.LogInformation(
                "Recovery window: {Backups} backups, first recoverable point {First:u}", window.Backups, window.FirstRecoverable);
        }
        catch (Exception ex) when (ex is DockerCommandException or FormatException or JsonException or IOException)
        {
            logger.LogWarning("Could not read the recovery window: {Message}", ex.Message);
        }
    }

    /// <summary>
    /// A full backup as soon as a replica streams (until then there is nothing to restore from), then every
    /// <paramref name="interval"/>; each one ends with pgBackRest's expire, which enforces the retention.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithScheduledFullBackups(this IResourceBuilder<PatroniClusterResource> builder, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMinutes(1));
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, dispatchToken) =>
        {
            // The event's own token ends with its dispatch; the schedule lives as long as the application.
            _ = ScheduleAsync(cluster, interval, @event.Services, @event.Logger, @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>
    /// A full backup as soon as the backup store is running again after it went down. A store that crashed may have lost
    /// what it acknowledged last (Azurite keeps its blob index in memory and saves it every few seconds; see
    /// docs/backup.md), so the WAL archive can have a hole just before the crash, and every restore to a later time
    /// would stop at it until the next daily backup. A backup right away makes everything from now on restorable
    /// again. After a planned stop the extra backup costs little.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithFullBackupAfterStoreOutage(
        this IResourceBuilder<PatroniClusterResource> builder, IResourceBuilder<BackupStoreResource> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, dispatchToken) =>
        {
            // The event's own token ends with its dispatch; the watch lives as long as the application.
            _ = FollowStoreAsync(cluster, store.Resource, @event.Services, @event.Logger, @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    private static async Task FollowStoreAsync(PatroniClusterResource cluster, BackupStoreResource store, IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var wasRunning = false;
        var wentDown = false;
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken))
            {
                if (update.Resource != store)
                {
                    continue;
                }

                var running = update.Snapshot.State?.Text == KnownResourceStates.Running;
                wentDown |= wasRunning && !running;
                wasRunning |= running;
                if (!running || !wentDown)
                {
                    continue;
                }

                wentDown = false;
                logger.LogWarning("The backup store is back after an outage; taking a full backup so that restores to any time from now on have no gap");
                await notifications.WaitForResourceHealthyAsync(store.Name, cancellationToken);
                if (await RunAsync(cluster, services, logger, cancellationToken) is { } failure)
                {
                    logger.LogWarning("The full backup after the store's outage failed: {Failure}; the daily one follows", failure);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }

    private static async Task ScheduleAsync(PatroniClusterResource cluster, TimeSpan interval, IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            while (cluster.LastObservedState is not { Leader: not null, StreamingReplicas: > 0 })
            {
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                if (await RunAsync(cluster, services, logger, cancellationToken) is { } failure)
                {
                    logger.LogWarning("Scheduled full backup failed: {Failure}", failure);
                }

                logger.LogInformation("Next full backup in {Interval}", interval);
                await Task.Delay(interval, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }
}
