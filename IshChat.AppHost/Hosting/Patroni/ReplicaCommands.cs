using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// The cluster's <b>Add replica</b> and <b>Remove replica</b>: the next spare node slot started live, or the highest running
/// node drained and stopped, with no restart of the AppHost and no failed request (<see cref="ReplicaMembership"/>).
/// </summary>
public static class ReplicaCommands
{
    public const string AddReplica = "patroni-add-replica";
    public const string RemoveReplica = "patroni-remove-replica";

    internal static IResourceBuilder<PatroniClusterResource> WithReplicaCommands(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        return builder
            .WithCommand(AddReplica, "Add replica", context => RunAsync(cluster, context, (m, ct) => m.AddAsync(ct)), new CommandOptions
            {
                Description = "Starts the next spare node: it clones from a replica (not the primary), streams, then HAProxy routes reads to it. Progress in this resource's log.",
                ConfirmationMessage = "Start a spare node as a new replica?",
                IconName = "AddCircle",
                UpdateState = context => HasLeaderAndSpares(cluster) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            })
            .WithCommand(RemoveReplica, "Remove replica", context => RunAsync(cluster, context, (m, ct) => m.RemoveAsync(cancellationToken: ct)), new CommandOptions
            {
                Description = "Drains the highest running node in HAProxy, stops it and drops its replication slot. Never the leader, never below the configured replicas.",
                ConfirmationMessage = "Drain and stop the highest running replica?",
                IconName = "SubtractCircle",
                UpdateState = context => HasLeaderAndSpares(cluster) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            });
    }

    /// <summary>
    /// Converges a cluster started with fewer nodes than it last ran (a lower <c>WithReplicas(n)</c>, a spare added and not
    /// started again): once it is healthy, the slots those nodes left behind are dropped, data kept on the nodes that run.
    /// A higher count needs nothing: the new node starts with the others and clones from a replica.
    /// </summary>
    internal static IResourceBuilder<PatroniClusterResource> WithConvergenceOnStart(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var cluster = builder.Resource;
        builder.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
        {
            var services = @event.Services;
            var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(cluster);
            _ = Task.Run(async () =>
            {
                try
                {
                    await services.GetRequiredService<ResourceNotificationService>().WaitForHealthChecksAsync(cluster.Name, stopping);
                    var rest = await cluster.CreateRestClientAsync(stopping);
                    await new ReplicaMembership(rest, new OrchestratedNodes(cluster, services), cluster.Settings, logger).DropSlotsOfAbsentNodesAsync(stopping);
                }
                catch (OperationCanceledException)
                {
                    // The application is stopping.
                }
                catch (Exception ex) when (ex is PatroniRequestException or HttpRequestException or InvalidOperationException or TimeoutException or DockerCommandException)
                {
                    logger.LogWarning("The slots of nodes not running were not dropped ({Message}); Patroni drops them after member_slots_ttl", ex.Message);
                }
            }, stopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    private static bool HasLeaderAndSpares(PatroniClusterResource cluster) =>
        cluster.LastObservedState?.Leader is not null && cluster.Nodes.Any(n => n.IsSpare);

    // One change at a time: two removals at once could both pass the minimum check.
    private static readonly SemaphoreSlim oneChangeAtATime = new(1, 1);

    private static async Task<ExecuteCommandResult> RunAsync(
        PatroniClusterResource cluster, ExecuteCommandContext context, Func<ReplicaMembership, CancellationToken, Task<ReplicaChangeReport>> change)
    {
        if (!await oneChangeAtATime.WaitAsync(TimeSpan.Zero, context.CancellationToken))
        {
            return CommandResults.Failure("Another replica change is running; see the pg resource's log.");
        }

        try
        {
            var rest = await cluster.CreateRestClientAsync(context.CancellationToken);
            var membership = new ReplicaMembership(rest, new OrchestratedNodes(cluster, context.Services), cluster.Settings, context.Logger);
            await change(membership, context.CancellationToken);
            return CommandResults.Success();
        }
        catch (ReplicaChangeRefusedException ex)
        {
            context.Logger.LogWarning("Refused: {Message}", ex.Message);
            return CommandResults.Failure(ex.Message);
        }
        catch (Exception ex) when (ex is PatroniRequestException or HttpRequestException or InvalidOperationException or TimeoutException or DockerCommandException)
        {
            context.Logger.LogWarning("Replica change stopped: {Message}", ex.Message);
            return CommandResults.Failure(ex.Message);
        }
        finally
        {
            oneChangeAtATime.Release();
        }
    }
}
