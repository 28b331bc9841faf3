using IshChat.AppHost.Hosting.Exporters;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Backup;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.BackupStore;

/// <summary>
/// The cluster's restore drill (<see cref="RestoreDrill"/>: restore point on the leader, restore into a throwaway
/// container on the cluster's network, consistency, pg_amcheck, row counts) run by the schedule and the "Run restore
/// drill" command, with every result written for node_exporter's textfile collector (<see cref="RestoreDrillMetrics"/>).
/// </summary>
internal sealed class ScheduledRestoreDrill(PatroniClusterResource cluster, BackupStoreResource store, string image)
{
    // Restore, replay and pg_amcheck of a large database take a while; a hung drill must not block the next one.
    private static readonly TimeSpan drillTimeout = TimeSpan.FromHours(2);

    // 1 while a drill runs: two at once would only slow each other down on the same machine.
    private int running;

    public RestoreDrillMetrics Metrics { get; } = new(NodeExporterTextfiles.Directory);

    /// <summary>Runs one drill now and records its result; fails at once (recording nothing) while another one runs.</summary>
    public async Task<RestoreDrillResult> RunAsync(IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        var stanza = BackupStoreBuilderExtensions.Stanza(cluster);
        if (Interlocked.Exchange(ref running, 1) == 1)
        {
            return new RestoreDrillResult(stanza, DateTimeOffset.UtcNow, TimeSpan.Zero, "a restore drill is already running; its result will be in the log");
        }

        try
        {
            var result = await PrepareAsync(stanza, services, cancellationToken) is { } settings
                ? await new RestoreDrill(settings, logger).RunAsync(cancellationToken)
                : new RestoreDrillResult(stanza, DateTimeOffset.UtcNow, TimeSpan.Zero, "the cluster has no running leader container on a network right now");
            Metrics.Record(result);
            return result;
        }
        finally
        {
            Volatile.Write(ref running, 0);
        }
    }

    /// <summary>
    /// A drill once the first full backup exists (<paramref name="firstBackup"/>), then every <paramref name="interval"/>.
    /// </summary>
    public void Schedule(TimeSpan interval, Task firstBackup, IServiceProvider services, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMinutes(1));
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(async () =>
        {
            try
            {
                await firstBackup.WaitAsync(stopping);
                while (!stopping.IsCancellationRequested)
                {
                    await RunAsync(services, logger, stopping);
                    logger.LogInformation("Next restore drill in {Interval}", interval);
                    await Task.Delay(interval, stopping);
                }
            }
            catch (OperationCanceledException)
            {
                // The application is stopping.
            }
        }, stopping);
    }

    private async Task<RestoreDrillSettings?> PrepareAsync(string stanza, IServiceProvider services, CancellationToken cancellationToken)
    {
        var leader = cluster.LastObservedState?.Leader;
        if (leader is null || cluster.Nodes.FirstOrDefault(n => n.Name == leader.Name) is not { } node
            || await services.GetRequiredService<ResourceNotificationService>().ContainerIdAsync(node, cancellationToken) is not { } containerId)
        {
            return null;
        }

        var networks = await DockerCli.NetworksOfAsync(containerId, cancellationToken);
        if (networks.Count == 0)
        {
            return null;
        }

        var network = networks[0];
        var environment = new Dictionary<string, string>();
        foreach (var (variable, value) in BackupEnvironment.Standalone(store.Repository, stanza))
        {
            environment[variable] = value.Secret is { } secret ? await store.SecretValueAsync(secret, cancellationToken) : value.Literal!;
        }

        return new RestoreDrillSettings(stanza, containerId, network, image, environment, drillTimeout);
    }
}
