using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Etcd;
using IshChat.Cluster.Patroni;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

public static class OrderedShutdownExtensions
{
    /// <summary>A stop that outlasts this is left to the orchestrator, which stops whatever still runs.</summary>
    private static readonly TimeSpan patience = TimeSpan.FromSeconds(90);

    /// <summary>
    /// When the AppHost stops (Ctrl+C), the Patroni nodes are stopped replicas first, then the leader, before the
    /// orchestrator removes the containers (<see cref="OrderedShutdown"/>): no replica promotes itself on the way out,
    /// and the next start finds the cluster as it was, the leader holding the newest WAL.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithOrderedShutdown(this IResourceBuilder<PatroniClusterResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, _) =>
        {
            var notifications = @event.Notifications;
            var logger = @event.Logger;
            // ApplicationStopping runs before the orchestrator's own shutdown, which waits for this callback.
            @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() =>
            {
                using var timeout = new CancellationTokenSource(patience);
                try
                {
                    StopAsync(cluster, notifications, logger, timeout.Token).GetAwaiter().GetResult();
                }
                catch (Exception ex)
                {
                    logger.LogWarning("The ordered stop of {Cluster} did not finish ({Message}); the orchestrator stops the rest", cluster.Name, ex.Message);
                }
            });
            return Task.CompletedTask;
        });

        return builder;
    }

    private static async Task StopAsync(PatroniClusterResource cluster, ResourceNotificationService notifications, ILogger logger, CancellationToken cancellationToken)
    {
        var nodes = new Dictionary<string, string>();
        foreach (var node in cluster.Nodes)
        {
            if (await notifications.ContainerIdAsync(node, cancellationToken) is { } id)
            {
                nodes[node.Name] = id;
            }
        }

        if (nodes.Count == 0)
        {
            return;
        }

        var leaderKey = cluster.Etcd.LeaderKey(cluster.Scope);
        string? leader = null;
        foreach (var etcd in cluster.Etcd.ClientUrls())
        {
            try
            {
                leader = (await leaderKey.ReadAsync(etcd, cancellationToken))?.Holder;
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Down or gone already: the next member answers for the same cluster.
            }
        }

        await OrderedShutdown.StopAsync(nodes, leader, logger, cancellationToken);
    }
}
