using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// The Patroni resources' dashboard state is a <see cref="StatusLabel"/> ("Leader", "Replica · lag 0 B") in place of
/// Aspire's "Running". Aspire derives a resource's health status only while its state reads "Running", so whoever
/// needs "up" or "healthy" for these resources asks here instead.
/// </summary>
public static class PatroniStates
{
    // Aspire's own states other than Running: the container (or the group) is not up while one of these shows.
    private static readonly HashSet<string> notUp = new(StringComparer.Ordinal)
    {
        KnownResourceStates.Starting, KnownResourceStates.Building, KnownResourceStates.Waiting, KnownResourceStates.NotStarted,
        KnownResourceStates.Stopping, KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart,
        KnownResourceStates.RuntimeUnhealthy,
    };

    /// <summary>Running, or one of the monitor's labels (which it shows only while the container runs).</summary>
    public static bool IsUp(string? state) => state is { Length: > 0 } && !notUp.Contains(state);

    /// <summary>
    /// Waits until every health check of <paramref name="resourceName"/> last reported healthy: Aspire's
    /// <c>WaitForResourceHealthyAsync</c> would wait for ever once the state shows a label instead of "Running".
    /// </summary>
    public static Task<ResourceEvent> WaitForHealthChecksAsync(this ResourceNotificationService notifications, string resourceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        return notifications.WaitForResourceAsync(resourceName, e => IsUp(e.Snapshot.State?.Text)
            && e.Snapshot.HealthReports is { Length: > 0 } reports && reports.All(r => r.Status == HealthStatus.Healthy), cancellationToken);
    }
}
