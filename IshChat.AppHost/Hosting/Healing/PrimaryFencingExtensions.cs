using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Etcd;
using IshChat.Cluster.Fencing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Healing;

public static class PrimaryFencingExtensions
{
    /// <summary>
    /// A primary that stops answering (frozen, cut off the network) is SIGKILLed by the container runtime once both
    /// its REST API (from the AppHost) and etcd's quorum (its lease unrenewed) say so, and its leader key is released
    /// (<see cref="PrimaryFencer"/>): a replica leads within seconds instead of after the 20 s lease. The self-healing
    /// supervisor then starts it again as a replica. The dashboard's Pause and Partition on the leader show it.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> WithPrimaryFencing(this IResourceBuilder<PatroniClusterResource> builder, FencingSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(cluster, (@event, _) =>
        {
            var notifications = @event.Notifications;
            var fencer = new PrimaryFencer(
                settings ?? new FencingSettings(),
                cluster.CertificateAuthority.HttpHandler,
                cluster.Etcd.LeaderKey(cluster.Scope),
                cluster.Etcd.ClientUrls,
                async cancellationToken =>
                {
                    var nodes = new List<FencedNode>();
                    foreach (var node in cluster.Nodes)
                    {
                        var rest = new EndpointReference(node, PatroniNodeResource.RestEndpointName);
                        if (rest.IsAllocated && await notifications.ContainerIdAsync(node, cancellationToken) is { } id)
                        {
                            nodes.Add(new FencedNode(node.Name, id, new Uri(rest.Url)));
                        }
                    }

                    return nodes;
                },
                @event.Logger);
            fencer.Start();
            @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => fencer.DisposeAsync().AsTask().Wait());
            return Task.CompletedTask;
        });

        return builder;
    }
}
