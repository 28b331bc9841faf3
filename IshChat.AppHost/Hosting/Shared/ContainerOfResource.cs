using System.Collections.Concurrent;
using IshChat.Cluster.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>A resource's container as the runtime knows it: for the fault commands, the self-healing and the chaos matrix's tests.</summary>
public static class ContainerOfResource
{
    // Aspire's name for the snapshot property holding the runtime's container id.
    private const string ContainerIdProperty = "container.id";

    // The orchestrator names the application's network "aspire-…"; a partition cuts a container off it.
    private const string AspireNetworkPrefix = "aspire";

    // The network each container was last seen on, so a partitioned one (on none) is reconnected to its own.
    private static readonly ConcurrentDictionary<string, string> lastNetworkOf = new();

    /// <summary>The runtime's id of the container behind <paramref name="resource"/>, as the orchestrator last reported it.</summary>
    public static async Task<string?> ContainerIdAsync(this ResourceNotificationService notifications, IResource resource, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            var current = await notifications.WaitForResourceAsync(resource.Name, _ => true, timeout.Token);
            return current.Snapshot.Properties.FirstOrDefault(p => p.Name == ContainerIdProperty)?.Value as string is { Length: > 0 } id ? id : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="resource"/>'s container as a fault's target: its id, the application's network, and the
    /// aliases it is known by there (its name and the orchestrator's <c>.dev.internal</c> one).
    /// </summary>
    public static async Task<FaultTarget> FaultTargetAsync(this IServiceProvider services, IResource resource, CancellationToken cancellationToken)
    {
        var id = await services.GetRequiredService<ResourceNotificationService>().ContainerIdAsync(resource, cancellationToken)
            ?? throw new InvalidOperationException($"{resource.Name} has no container right now.");
        var networks = await DockerCli.NetworksOfAsync(id, cancellationToken);
        // A partitioned container is on no network: reconnect it to the application's, found by name.
        var network = networks.FirstOrDefault(n => n.StartsWith(AspireNetworkPrefix, StringComparison.Ordinal));
        if (network is not null)
        {
            lastNetworkOf[id] = network;
        }
        else
        {
            network = lastNetworkOf.GetValueOrDefault(id) ?? await ApplicationNetworkAsync(cancellationToken);
        }

        // The orchestrator connects a container it manages back to its network within a second of a disconnect, so a
        // partition here is cut inside the container's own network namespace.
        return new FaultTarget(resource.Name, id, network, [resource.Name, $"{resource.Name}.dev.internal"]) { CutOffInsideNamespace = true };
    }

    private static async Task<string?> ApplicationNetworkAsync(CancellationToken cancellationToken)
    {
        var names = (await DockerCli.RunAsync(["network", "ls", "--format", "{{.Name}}"], cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(n => n.StartsWith(AspireNetworkPrefix, StringComparison.Ordinal))
            .ToList();
        // Only reached for a container cut off before this AppHost process saw it: with one AppHost on the engine
        // its network is the only one; with several it can't be told, and reconnecting says so.
        return names.Count == 1 ? names[0] : null;
    }
}
