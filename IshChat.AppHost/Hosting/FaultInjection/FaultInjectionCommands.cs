using System.Collections.Concurrent;
using IshChat.AppHost.Hosting.Patroni;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.FaultInjection;

/// <summary>
/// The failover suite's faults as dashboard commands, so a developer can watch a failover happen:
/// kill the primary; and on each node kill, pause/unpause and partition/reconnect.
/// </summary>
public static class FaultInjectionCommands
{
    public const string KillPrimary = "fault-kill-primary";
    public const string KillNode = "fault-kill-node";
    public const string PauseNode = "fault-pause-node";
    public const string UnpauseNode = "fault-unpause-node";
    public const string PartitionNode = "fault-partition-node";
    public const string ReconnectNode = "fault-reconnect-node";

    // The network a partitioned node was cut from, to reconnect it to the same one.
    private static readonly ConcurrentDictionary<string, string> partitioned = new();

    public static IResourceBuilder<PatroniClusterResource> WithFaultInjectionCommands(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        builder.WithCommand(KillPrimary, "Kill primary (SIGKILL)", context => RunAsync(context, async (notifications, ct) =>
        {
            var leader = cluster.LastObservedState?.Leader?.Name ?? throw new InvalidOperationException("The cluster has no leader right now.");
            var node = cluster.Nodes.Single(n => n.Name == leader);
            await DockerCli.KillAsync(await ContainerIdOfAsync(notifications, node, ct), ct);
            return $"killed {leader}";
        }), new CommandOptions
        {
            Description = "SIGKILLs the current primary's container, as a host crash would; watch a replica take over.",
            ConfirmationMessage = "Kill the primary's container?",
            IconName = "Flash",
        });

        foreach (var node in cluster.Nodes)
        {
            builder.ApplicationBuilder.CreateResourceBuilder(node)
                .WithCommand(KillNode, "Kill (SIGKILL)", context => RunAsync(context, async (notifications, ct) =>
                {
                    await DockerCli.KillAsync(await ContainerIdOfAsync(notifications, node, ct), ct);
                    return $"killed {node.Name}";
                }), Options($"SIGKILLs {node.Name}'s container.", $"Kill {node.Name}?", "Flash"))
                .WithCommand(PauseNode, "Pause (freeze)", context => RunAsync(context, async (notifications, ct) =>
                {
                    await DockerCli.RunAsync(["pause", await ContainerIdOfAsync(notifications, node, ct)], ct);
                    return $"paused {node.Name}";
                }), Options($"Freezes every process of {node.Name}: alive but silent, its lease runs out.", $"Freeze {node.Name}?", "Pause"))
                .WithCommand(UnpauseNode, "Unpause", context => RunAsync(context, async (notifications, ct) =>
                {
                    await DockerCli.RunAsync(["unpause", await ContainerIdOfAsync(notifications, node, ct)], ct);
                    return $"unpaused {node.Name}";
                }), Options($"Resumes a frozen {node.Name}.", null, "Play"))
                .WithCommand(PartitionNode, "Partition from the network", context => RunAsync(context, async (notifications, ct) =>
                {
                    var container = await ContainerIdOfAsync(notifications, node, ct);
                    var network = (await DockerCli.RunAsync(["inspect", "--format", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", container], ct))
                        .Split(' ', StringSplitOptions.RemoveEmptyEntries).First(n => n.StartsWith("aspire", StringComparison.Ordinal));
                    await DockerCli.DisconnectAsync(network, container, ct);
                    partitioned[node.Name] = network;
                    return $"cut {node.Name} off {network}";
                }), Options($"Disconnects {node.Name} from the cluster's network: it runs on but reaches no one.", $"Partition {node.Name}?", "PlugDisconnected"))
                .WithCommand(ReconnectNode, "Reconnect to the network", context => RunAsync(context, async (notifications, ct) =>
                {
                    var network = partitioned.TryRemove(node.Name, out var cutFrom) ? cutFrom : throw new InvalidOperationException($"{node.Name} is not partitioned.");
                    await DockerCli.ConnectAsync(network, await ContainerIdOfAsync(notifications, node, ct), [node.Name, $"{node.Name}.dev.internal"], ct);
                    return $"reconnected {node.Name}";
                }), Options($"Reconnects a partitioned {node.Name}; it rejoins as a replica (pg_rewind).", null, "PlugConnected"));
        }

        return builder;
    }

    private static CommandOptions Options(string description, string? confirmation, string icon) =>
        new() { Description = description, ConfirmationMessage = confirmation, IconName = icon };

    private static async Task<string> ContainerIdOfAsync(ResourceNotificationService notifications, IResource resource, CancellationToken cancellationToken) =>
        await notifications.ContainerIdAsync(resource, cancellationToken) ?? throw new InvalidOperationException($"{resource.Name} has no running container.");

    private static async Task<ExecuteCommandResult> RunAsync(ExecuteCommandContext context, Func<ResourceNotificationService, CancellationToken, Task<string>> fault)
    {
        try
        {
            var done = await fault(context.Services.GetRequiredService<ResourceNotificationService>(), context.CancellationToken);
            context.Logger.LogWarning("Fault injected: {Fault}", done);
            return CommandResults.Success();
        }
        catch (InvalidOperationException ex)
        {
            return CommandResults.Failure(ex.Message);
        }
    }
}
