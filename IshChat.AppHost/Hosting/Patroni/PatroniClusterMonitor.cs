using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// Reads the cluster from Patroni's REST API every second and shows it on the dashboard where a person looks
/// first, the state column of the resource list: each node's role and lag ("Leader", "Replica · lag 0 B"), the
/// cluster's leader and streaming replicas (<see cref="StatusLabel"/>); and, as properties, role, state, lag,
/// timeline and pending restart. Its last reading also decides the cluster's health (<see cref="ClusterState.Evaluate"/>).
/// Once a leader is seen, it also writes the AppHost's settings over a dynamic configuration that drifted from them
/// (<see cref="DynamicConfigurationReconciler"/>).
/// </summary>
internal static class PatroniClusterMonitor
{
    private static readonly TimeSpan pollInterval = TimeSpan.FromSeconds(1);

    public static IResourceBuilder<PatroniClusterResource> WithClusterMonitor(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
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
        var shown = new ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        _ = FollowShownStatesAsync(@event.Notifications, [cluster.Name, .. cluster.Nodes.Select(n => n.Name)], shown, cancellationToken);
        string? lastError = null;
        try
        {
            var rest = await cluster.CreateRestClientAsync(cancellationToken);
            var reconciler = new DynamicConfigurationReconciler(cluster, @event.Logger);
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
                    await PublishClusterAsync(cluster, new StatusLabel("No Patroni node answers", StatusTone.Bad), null, @event.Notifications, published, shown);
                    continue;
                }

                await PublishAsync(cluster, state.State, @event.Notifications, published, shown, @event.Logger);
                if (!reconciler.Done && state.State.Leader is not null)
                {
                    await reconciler.TryAsync(rest, cancellationToken);
                }
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
        Dictionary<string, string> published, ConcurrentDictionary<string, string?> shown, ILogger logger)
    {
        // A spare counts once its container is up (Add replica, or its own Start): from then on it is expected to stream.
        foreach (var spare in cluster.Nodes.Where(n => n.IsSpare))
        {
            cluster.SetSpareUp(spare, PatroniStates.IsUp(shown.GetValueOrDefault(spare.Name)));
        }

        foreach (var node in cluster.Nodes)
        {
            var member = state.Members.FirstOrDefault(m => m.Name == node.Name);
            var role = member?.Role ?? "absent";
            var label = StatusLabel.Of(member, cluster.Settings.MaximumLagOnFailoverBytes);
            var fingerprint = $"{role}|{label.Text}|{label.Tone}|{member?.Timeline}";
            if (published.GetValueOrDefault(node.Name) == fingerprint && ShowsLabel(shown, node, label))
            {
                continue;
            }

            if (published.TryGetValue(node.Name, out var previous) && previous.Split('|')[0] != role)
            {
                logger.LogInformation("{Node} is now {Role} (was {Previous})", node.Name, role, previous.Split('|')[0]);
            }

            published[node.Name] = fingerprint;
            var lag = member is null || member.IsLeader ? "" : member.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
            await notifications.PublishUpdateAsync(node, s => s with
            {
                State = ContainerRuns(s) ? ToStateSnapshot(label) : s.State,
                Properties = s.Properties
                    .With(PatroniProperties.Role, role)
                    .With(PatroniProperties.State, member?.State ?? "unknown")
                    .With(PatroniProperties.LagBytes, lag)
                    .With(PatroniProperties.Timeline, member?.Timeline?.ToString(CultureInfo.InvariantCulture) ?? "")
                    .With(PatroniProperties.PendingRestart, member?.PendingRestart ?? false),
            });
        }

        await PublishClusterAsync(cluster, StatusLabel.Of(state, cluster.ServingNodes.Count, cluster.Settings), state, notifications, published, shown);
    }

    private static async Task PublishClusterAsync(
        PatroniClusterResource cluster, StatusLabel label, ClusterState? state, ResourceNotificationService notifications,
        Dictionary<string, string> published, ConcurrentDictionary<string, string?> shown)
    {
        var fingerprint = $"{label.Text}|{label.Tone}";
        if (published.GetValueOrDefault(cluster.Name) == fingerprint && ShowsLabel(shown, cluster, label))
        {
            return;
        }

        published[cluster.Name] = fingerprint;
        await notifications.PublishUpdateAsync(cluster, s => s with
        {
            State = ContainerRuns(s) ? ToStateSnapshot(label) : s.State,
            Properties = s.Properties
                .With(PatroniProperties.Leader, state?.Leader?.Name ?? "none")
                .With(PatroniProperties.StreamingReplicas, state?.StreamingReplicas.ToString(CultureInfo.InvariantCulture) ?? "")
                .With(PatroniProperties.SynchronousMode, cluster.Settings.SynchronousMode.ToString().ToLowerInvariant()),
        });
    }

    /// <summary>Keeps <paramref name="shown"/> at the state each of <paramref name="names"/> shows now, whoever wrote it.</summary>
    private static async Task FollowShownStatesAsync(
        ResourceNotificationService notifications, IReadOnlyCollection<string> names, ConcurrentDictionary<string, string?> shown, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken))
            {
                if (names.Contains(update.Resource.Name))
                {
                    shown[update.Resource.Name] = update.Snapshot.State?.Text;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }

    /// <summary>
    /// The label replaces "Running" only: the orchestrator's own states (Starting, Exited, Stopping…) say more while the
    /// container is not up, and the orchestrator writes "Running" again on its own updates, which the next poll corrects.
    /// </summary>
    private static bool ContainerRuns(CustomResourceSnapshot snapshot) => PatroniStates.IsUp(snapshot.State?.Text);

    private static bool ShowsLabel(ConcurrentDictionary<string, string?> shown, IResource resource, StatusLabel label) =>
        !shown.TryGetValue(resource.Name, out var state) || state == label.Text || !PatroniStates.IsUp(state);

    private static ResourceStateSnapshot ToStateSnapshot(StatusLabel label) => new(label.Text, label.Tone switch
    {
        StatusTone.Good => KnownResourceStateStyles.Success,
        StatusTone.Warning => KnownResourceStateStyles.Warn,
        _ => KnownResourceStateStyles.Error,
    });
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

        var health = state.Evaluate(cluster.ServingNodes.Count, cluster.Settings);
        // A leader with a replica still catching up serves writes: degraded, not down.
        return Task.FromResult(health.IsHealthy ? HealthCheckResult.Healthy(health.Summary)
            : state.Leader is null ? HealthCheckResult.Unhealthy(health.Summary) : HealthCheckResult.Degraded(health.Summary));
    }
}
