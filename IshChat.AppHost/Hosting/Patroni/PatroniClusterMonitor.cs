using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// Reads the cluster from Patroni's REST API every second and shows it on the dashboard: each
/// node's live role, state, lag and timeline, and the cluster's leader. Its last reading also
/// decides the cluster's health (<see cref="ClusterState.Evaluate"/>).
/// </summary>
internal static class PatroniClusterMonitor
{
    private static readonly TimeSpan pollInterval = TimeSpan.FromSeconds(1);

    public static IResourceBuilder<PatroniClusterResource> WithClusterMonitor(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        // Timeouts are per request inside PatroniRestClient: POST /failover takes as long as the promotion.
        builder.ApplicationBuilder.Services.AddHttpClient(nameof(PatroniRestClient), http => http.Timeout = Timeout.InfiniteTimeSpan);

        var healthCheckKey = $"{cluster.Name}_leader_and_streaming_replicas";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new PatroniClusterHealthCheck(cluster), failureStatus: HealthStatus.Unhealthy, tags: null));

        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, dispatchToken) =>
        {
            // The event's own token ends with its dispatch; the monitor lives as long as the application.
            _ = PollAsync(cluster, @event, @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });

        return builder.WithHealthCheck(healthCheckKey);
    }

    private static async Task PollAsync(PatroniClusterResource cluster, InitializeResourceEvent @event, CancellationToken cancellationToken)
    {
        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        string? lastError = null;
        try
        {
            var rest = await cluster.CreateRestClientAsync(@event.Services, cancellationToken);
            using var timer = new PeriodicTimer(pollInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var state = await rest.TryGetClusterFromAnyAsync(cluster.Nodes.Select(n => (n.Name, n.RestUrlIfAllocated)), cancellationToken);
                cluster.LastObservedState = state.State;
                if (state.State is null)
                {
                    if (state.Error != lastError && state.Error is not null)
                    {
                        @event.Logger.LogInformation("No Patroni node answers yet: {Error}", state.Error);
                    }

                    lastError = state.Error;
                    continue;
                }

                await PublishAsync(cluster, state.State, @event.Notifications, published, @event.Logger);
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
        catch (Exception ex)
        {
            @event.Logger.LogError(ex, "The Patroni cluster monitor stopped");
        }
    }

    private static async Task PublishAsync(
        PatroniClusterResource cluster, ClusterState state, ResourceNotificationService notifications,
        Dictionary<string, string> published, ILogger logger)
    {
        foreach (var node in cluster.Nodes)
        {
            var member = state.Members.FirstOrDefault(m => m.Name == node.Name);
            var role = member?.Role ?? "absent";
            var memberState = member?.State ?? "unknown";
            var lag = member is null || member.IsLeader ? "" : member.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
            var timeline = member?.Timeline?.ToString(CultureInfo.InvariantCulture) ?? "";
            var fingerprint = $"{role}|{memberState}|{lag}|{timeline}";
            if (published.GetValueOrDefault(node.Name) == fingerprint)
            {
                continue;
            }

            if (published.TryGetValue(node.Name, out var previous) && previous.Split('|')[0] != role)
            {
                logger.LogInformation("{Node} is now {Role} (was {Previous})", node.Name, role, previous.Split('|')[0]);
            }

            published[node.Name] = fingerprint;
            await notifications.PublishUpdateAsync(node, s => s with
            {
                Properties = s.Properties
                    .With(PatroniProperties.Role, role)
                    .With(PatroniProperties.State, memberState)
                    .With(PatroniProperties.LagBytes, lag)
                    .With(PatroniProperties.Timeline, timeline),
            });
        }

        var leader = state.Leader?.Name ?? "none";
        var streaming = state.StreamingReplicas.ToString(CultureInfo.InvariantCulture);
        var clusterFingerprint = $"{leader}|{streaming}";
        if (published.GetValueOrDefault(cluster.Name) != clusterFingerprint)
        {
            published[cluster.Name] = clusterFingerprint;
            await notifications.PublishUpdateAsync(cluster, s => s with
            {
                Properties = s.Properties
                    .With(PatroniProperties.Leader, leader)
                    .With(PatroniProperties.StreamingReplicas, streaming)
                    .With(PatroniProperties.SynchronousMode, cluster.Settings.SynchronousMode.ToString().ToLowerInvariant()),
            });
        }
    }
}

/// <summary>Healthy by <see cref="ClusterState.Evaluate"/>: one leader, every replica streaming, the synchronous standbys named.</summary>
internal sealed class PatroniClusterHealthCheck(PatroniClusterResource cluster) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (cluster.LastObservedState is not { } state)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("No Patroni node has answered yet"));
        }

        var health = state.Evaluate(cluster.Nodes.Count, cluster.Settings);
        // A leader with a replica still catching up serves writes: degraded, not down.
        return Task.FromResult(health.IsHealthy ? HealthCheckResult.Healthy(health.Summary)
            : state.Leader is null ? HealthCheckResult.Unhealthy(health.Summary) : HealthCheckResult.Degraded(health.Summary));
    }
}
