using System.Text.Json;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Prometheus;

/// <summary>
/// Keeps Prometheus's file-based targets in step with a project's replicas. Each replica listens
/// on its own port, chosen by the orchestrator at every start and visible only in the replica's
/// effective <c>ASPNETCORE_URLS</c>; scraping through the endpoint's proxy instead would hit a
/// different replica each time and mix their counters.
/// </summary>
internal sealed class ApiScrapeTargets(string directory, string fileName, string containerHostName, ILogger logger)
{
    private readonly Dictionary<string, int> replicaPorts = new(StringComparer.Ordinal);

    /// <summary>Follows the replicas of <paramref name="project"/> until the application stops.</summary>
    public async Task FollowAsync(ResourceNotificationService notifications, IResource project, CancellationToken cancellationToken)
    {
        Write();
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken))
            {
                if (update.Resource != project)
                {
                    continue;
                }

                var port = update.Snapshot.State?.Text == KnownResourceStates.Running ? ListeningPort(update.Snapshot) : null;
                var changed = port is { } p
                    ? !replicaPorts.TryGetValue(update.ResourceId, out var known) || known != p
                    : replicaPorts.ContainsKey(update.ResourceId);
                if (!changed)
                {
                    continue;
                }

                if (port is { } value)
                {
                    replicaPorts[update.ResourceId] = value;
                }
                else
                {
                    replicaPorts.Remove(update.ResourceId);
                }

                Write();
                logger.LogDebug("Prometheus scrapes {Project} replicas at {Targets}", project.Name, string.Join(", ", replicaPorts));
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Stopped following the replicas of {Project}; Prometheus keeps their last known targets", project.Name);
        }
    }

    /// <summary>The port of this replica's metrics listener (e.g. <c>http://172.17.0.1:40123</c> in ASPNETCORE_URLS).</summary>
    internal static int? ListeningPort(CustomResourceSnapshot snapshot)
    {
        var urls = snapshot.EnvironmentVariables.FirstOrDefault(e => e.Name == "ASPNETCORE_URLS")?.Value;
        foreach (var url in urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && MetricsListener.IsMetricsListener(uri) && uri.Port > 0)
            {
                return uri.Port;
            }
        }

        return null;
    }

    /// <summary>Prometheus's file_sd format; written to a temporary file and renamed, so it never reads half a file.</summary>
    private void Write()
    {
        var groups = replicaPorts.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new
        {
            targets = new[] { $"{containerHostName}:{r.Value}" },
            labels = new Dictionary<string, string> { ["instance"] = r.Key },
        });
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, fileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(groups));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
