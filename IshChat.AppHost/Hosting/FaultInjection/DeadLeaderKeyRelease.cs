using IshChat.AppHost.Hosting.Shared;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Cluster.Etcd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.FaultInjection;

public static class DeadLeaderKeyRelease
{
    /// <summary>
    /// When the container runtime confirms a Patroni node dead, releases its leader key in etcd
    /// (compare-and-delete: only while the key still names it), so a killed primary is replaced in
    /// seconds instead of after its lease. Frozen or partitioned nodes keep their lease.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithDeadLeaderKeyRelease(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, dispatchToken) =>
        {
            var notifications = @event.Notifications;
            var releaser = new DeadLeaderReleaser(
                cluster.Etcd.LeaderKey(cluster.Scope),
                async (containerId, cancellationToken) =>
                {
                    foreach (var node in cluster.Nodes)
                    {
                        if (await notifications.ContainerIdAsync(node, cancellationToken) is { } id
                            && (id.StartsWith(containerId, StringComparison.Ordinal) || containerId.StartsWith(id, StringComparison.Ordinal)))
                        {
                            return node.Name;
                        }
                    }

                    return null;
                },
                cluster.Etcd.ClientUrls,
                @event.Logger);
            releaser.Start();
            @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => releaser.DisposeAsync().AsTask().Wait());
            return Task.CompletedTask;
        });

        return builder;
    }
}
