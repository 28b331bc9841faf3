using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// The cluster's node containers as the orchestrator runs them: started, stopped and recreated through its commands, so
/// self-healing respects a removal and a recreated container is the orchestrator's own (from the node's image reference).
/// </summary>
internal sealed class OrchestratedNodes(PatroniClusterResource cluster, IServiceProvider services) : IReplicaSlots, INodeContainers
{
    private readonly ResourceNotificationService notifications = services.GetRequiredService<ResourceNotificationService>();
    private readonly ResourceCommandService commands = services.GetRequiredService<ResourceCommandService>();

    public IReadOnlyList<string> Nodes => [.. cluster.Nodes.Select(n => n.Name)];

    public int MinimumReplicas => cluster.ConfiguredReplicas;

    public Task<string?> ContainerIdAsync(string node, CancellationToken cancellationToken) =>
        notifications.ContainerIdAsync(NodeNamed(node), cancellationToken);

    public Task StartAsync(string node, CancellationToken cancellationToken) => RunAsync(node, KnownResourceCommands.StartCommand, cancellationToken);

    public Task StopAsync(string node, CancellationToken cancellationToken) => RunAsync(node, KnownResourceCommands.StopCommand, cancellationToken);

    public Uri? RestUrl(string node) => NodeNamed(node).RestUrlIfAllocated;

    public async Task<IReadOnlyList<string>> HAProxyContainerIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var router in cluster.Routers)
        {
            if (await notifications.ContainerIdAsync(router, cancellationToken) is { } id)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>The image reference every node is created from (one image for the whole cluster).</summary>
    public string ImageReference =>
        cluster.Nodes[0].TryGetLastAnnotation<ContainerImageAnnotation>(out var image)
            ? $"{image.Image}:{image.Tag}"
            : throw new InvalidOperationException($"{cluster.Nodes[0].Name} has no image.");

    public async Task<bool> RunsReplacedImageAsync(string node, CancellationToken cancellationToken)
    {
        // A spare never started, or a node stopped on purpose, runs nothing: its next start takes the new image anyway.
        if (await ContainerIdAsync(node, cancellationToken) is not { } container
            || !PatroniStates.IsUp(notifications.TryGetCurrentState(node, out var resource) ? resource.Snapshot.State?.Text : null))
        {
            return false;
        }

        return await ImageReplacement.ContainerImageIdAsync(container, cancellationToken) != await ImageReplacement.ImageIdAsync(ImageReference, cancellationToken);
    }

    public async Task RecreateAsync(string node, CancellationToken cancellationToken)
    {
        var before = await ContainerIdAsync(node, cancellationToken);
        // The orchestrator's start deletes the container and creates it again from its specification (Aspire's DcpExecutor).
        await RunAsync(node, KnownResourceCommands.RestartCommand, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (await ContainerIdAsync(node, timeout.Token) is not { } after || after == before)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), timeout.Token);
        }
    }

    private PatroniNodeResource NodeNamed(string node) => cluster.Nodes.Single(n => n.Name == node);

    private async Task RunAsync(string node, string command, CancellationToken cancellationToken)
    {
        var result = await commands.ExecuteCommandAsync(NodeNamed(node), command, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException(result.Message ?? $"The orchestrator did not run {command} on {node}.");
        }
    }
}
