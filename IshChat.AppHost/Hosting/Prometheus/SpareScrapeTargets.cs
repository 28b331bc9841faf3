using System.Text.Json;
using IshChat.AppHost.Hosting.Patroni;
using Microsoft.Extensions.Logging;
using Jobs = IshChat.Cluster.Configuration.MonitoringEnvironment.Jobs;

namespace IshChat.AppHost.Hosting.Prometheus;

/// <summary>
/// Keeps the live targets of the jobs <c>patroni</c> and <c>postgres</c> (<c>file_sd/&lt;job&gt;/</c>, re-read by Prometheus
/// every 5 s) at the spare Patroni nodes whose container is up: an added replica is scraped, through Patroni's /metrics
/// and the postgres exporter's probe, within seconds; a removed one no longer; a spare never started is no target, so
/// no TargetDown or PostgresDown for a normal state.
/// </summary>
internal sealed class SpareScrapeTargets(IReadOnlyList<PatroniNodeResource> spares, string directory, string fileName, ILogger logger)
{
    private readonly SortedSet<string> running = new(StringComparer.Ordinal);

    public async Task FollowAsync(ResourceNotificationService notifications, CancellationToken cancellationToken)
    {
        Write();
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken))
            {
                if (spares.FirstOrDefault(s => s.Name == update.Resource.Name) is not { } spare)
                {
                    continue;
                }

                if (PatroniStates.IsUp(update.Snapshot.State?.Text) ? running.Add(spare.Name) : running.Remove(spare.Name))
                {
                    Write();
                    logger.LogInformation("Prometheus scrapes the spare nodes {Nodes}", running.Count == 0 ? "none" : string.Join(", ", running));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Stopped following the spare nodes; Prometheus keeps their last known targets");
        }
    }

    /// <summary>Prometheus's file_sd format, one file per job; written to a temporary file and renamed, never read half-written.</summary>
    private void Write()
    {
        foreach (var (job, port) in new[] { (Jobs.Patroni, ClusterPorts.PatroniRest), (Jobs.Postgres, ClusterPorts.Postgres) })
        {
            var folder = Path.Combine(directory, job);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, fileName);
            File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(new[] { new { targets = running.Select(n => MonitoringEnvironment.Target(n, port)).ToArray() } }));
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }
}
