using IshChat.AppHost.Hosting.Shared;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Cluster.Faults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.FaultInjection;

/// <summary>
/// The failover suite's faults (<see cref="Fault"/>) as dashboard commands, so a developer can watch a failover
/// happen: kill the primary; and on each node every fault and its repair (kill/start, pause/unpause, partition/reconnect, …).
/// </summary>
public static class FaultInjectionCommands
{
    public const string KillPrimary = "fault-kill-primary";

    /// <summary>The command that does <paramref name="fault"/> to a node, e.g. <c>fault-pause</c>.</summary>
    public static string Inject(Fault fault) => $"fault-{FaultDescription.Of(fault).Verb}";

    /// <summary>The command that undoes <paramref name="fault"/> on a node, e.g. <c>repair-pause</c> (unpause).</summary>
    public static string Repair(Fault fault) => $"repair-{FaultDescription.Of(fault).Verb}";

    public static IResourceBuilder<PatroniClusterResource> WithFaultInjectionCommands(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        builder.WithCommand(KillPrimary, "Kill primary (SIGKILL)", context => RunAsync(context, async (services, ct) =>
        {
            var leader = cluster.LastObservedState?.Leader?.Name ?? throw new InvalidOperationException("The cluster has no leader right now.");
            var node = cluster.Nodes.Single(n => n.Name == leader);
            await FaultInjector.InjectAsync(Fault.Kill, await services.FaultTargetAsync(node, ct), context.Logger, ct);
            return $"killed {leader}";
        }), new CommandOptions
        {
            Description = "SIGKILLs the current primary's container, as a host crash would; watch a replica take over.",
            ConfirmationMessage = "Kill the primary's container?",
            IconName = "Flash",
        });

        foreach (var node in cluster.Nodes)
        {
            var nodeBuilder = builder.ApplicationBuilder.CreateResourceBuilder(node);
            foreach (var fault in FaultDescription.All)
            {
                nodeBuilder.WithCommand(Inject(fault.Fault), fault.Title, context => RunAsync(context, async (services, ct) =>
                {
                    await FaultInjector.InjectAsync(fault.Fault, await services.FaultTargetAsync(node, ct), context.Logger, ct);
                    return $"{fault.Verb} {node.Name}";
                }), new CommandOptions { Description = fault.Description, ConfirmationMessage = $"{fault.Title}: {node.Name}?", IconName = IconOf(fault.Fault) });
                if (fault.RepairVerb is not null)
                {
                    nodeBuilder.WithCommand(Repair(fault.Fault), fault.RepairTitle!, context => RunAsync(context, async (services, ct) =>
                    {
                        await FaultInjector.RepairAsync(fault.Fault, await services.FaultTargetAsync(node, ct), context.Logger, ct);
                        return $"{fault.RepairVerb} {node.Name}";
                    }), new CommandOptions { Description = $"Undoes '{fault.Title}' on {node.Name}; it rejoins as a replica (pg_rewind).", IconName = "Play" });
                }
            }
        }

        return builder;
    }

    private static string IconOf(Fault fault) => fault switch
    {
        Fault.Kill => "Flash",
        Fault.Stop => "Stop",
        Fault.Crash => "ErrorCircle",
        Fault.Pause => "Pause",
        Fault.Partition => "PlugDisconnected",
        _ => "Warning",
    };

    private static async Task<ExecuteCommandResult> RunAsync(ExecuteCommandContext context, Func<IServiceProvider, CancellationToken, Task<string>> fault)
    {
        try
        {
            var done = await fault(context.Services, context.CancellationToken);
            context.Logger.LogWarning("Fault injection: {Done}", done);
            return CommandResults.Success();
        }
        catch (InvalidOperationException ex)
        {
            return CommandResults.Failure(ex.Message);
        }
    }
}
