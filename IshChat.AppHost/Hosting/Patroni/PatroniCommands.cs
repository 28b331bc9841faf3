using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// Dashboard commands that act through Patroni's REST API, as patronictl would: a planned
/// switchover on the cluster, and on each node a failover to it and a PostgreSQL restart.
/// </summary>
public static class PatroniCommands
{
    public const string Switchover = "patroni-switchover";
    public const string FailoverToNode = "patroni-failover-to-node";
    public const string RestartPostgres = "patroni-restart-postgres";
    public const string RollingRestart = "patroni-rolling-restart";
    public const string UpdateNodeImage = "patroni-update-node-image";

    internal static IResourceBuilder<PatroniClusterResource> WithSwitchoverCommand(this IResourceBuilder<PatroniClusterResource> builder) =>
        builder.WithCommand(Switchover, "Switchover", context => RunAsync(builder.Resource, context, async (rest, leader) =>
        {
            var answer = await rest.SwitchoverAsync(leader, builder.Resource.LastObservedState!.Leader!.Name, candidate: null, context.CancellationToken);
            return answer;
        }), new CommandOptions
        {
            Description = "Hands leadership to the healthiest replica: a planned, lossless change of primary.",
            ConfirmationMessage = "Switch the primary over to another node?",
            IconName = "ArrowSwap",
            IsHighlighted = true,
            UpdateState = context => HasLeader(builder.Resource) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
        });

    /// <summary>
    /// Applies settings that wait for a restart (set with <c>patronictl edit-config -p name=value</c>; each node then shows
    /// "restart pending") without an outage: replicas one at a time, a switchover, the old leader (<see cref="Cluster.Patroni.RollingRestart"/>).
    /// </summary>
    internal static IResourceBuilder<PatroniClusterResource> WithRollingRestartCommand(this IResourceBuilder<PatroniClusterResource> builder) =>
        builder.WithCommand(RollingRestart, "Rolling restart (apply pending settings)", context => RunProcedureAsync(context, "Rolling restart", async () =>
        {
            var cluster = builder.Resource;
            var rest = await cluster.CreateRestClientAsync(context.CancellationToken);
            await new Cluster.Patroni.RollingRestart(rest, () => cluster.ServingNodes.Select(n => (n.Name, n.RestUrlIfAllocated)), cluster.Settings, context.Logger)
                .RunAsync(parameters: null, context.CancellationToken);
        }), WhileLeading(builder.Resource,
            "Restarts every node whose settings wait for a restart: replicas one at a time, each streaming again before the next, then a switchover, then the old leader.",
            "Restart the nodes pending a restart, one at a time?", "ArrowSync"));

    /// <summary>
    /// Rolls a new node image out to the running cluster (a PostgreSQL or Patroni point release from Debian, or an image the
    /// operator tagged <c>&lt;reference&gt;-candidate</c>): the image goes behind the nodes' reference (<see cref="ImageReplacement"/>),
    /// then each node's container is recreated in the rolling restart's order, replicas first, the leader after a switchover.
    /// A run that stopped half-way is resumed by the next: nodes still on the old image are recreated, nothing is rebuilt.
    /// </summary>
    internal static IResourceBuilder<PatroniClusterResource> WithNodeImageUpdateCommand(this IResourceBuilder<PatroniClusterResource> builder)
    {
        var layout = RepositoryLayout.FindFrom(builder.ApplicationBuilder.AppHostDirectory);
        return builder.WithCommand(UpdateNodeImage, "Update node image", context => RunProcedureAsync(context, "Node image update", async () =>
        {
            var cluster = builder.Resource;
            var nodes = new OrchestratedNodes(cluster, context.Services);
            var rest = await cluster.CreateRestClientAsync(context.CancellationToken);
            var behind = new List<string>();
            foreach (var node in cluster.ServingNodes)
            {
                if (await nodes.RunsReplacedImageAsync(node.Name, context.CancellationToken))
                {
                    behind.Add(node.Name);
                }
            }

            if (behind.Count > 0)
            {
                context.Logger.LogInformation("Resuming the update: {Nodes} still run the image {Reference} named before", string.Join(", ", behind), nodes.ImageReference);
            }
            else if (await new ImageReplacement(layout, context.Logger).PrepareAsync(ClusterImages.Patroni, context.CancellationToken) is null)
            {
                return;
            }

            await new Cluster.Patroni.RollingRestart(rest, () => cluster.ServingNodes.Select(n => (n.Name, n.RestUrlIfAllocated)), cluster.Settings, context.Logger, nodes)
                .RunAsync(parameters: null, context.CancellationToken);
        }), WhileLeading(builder.Resource,
            "Rebuilds the node image from Debian's current packages (or takes the one tagged <reference>-candidate) and recreates each node on it: replicas one at a time, then a switchover, then the old leader. Progress in this resource's log.",
            "Roll a new node image out to the running cluster, one node at a time?", "ArrowUpload"));
    }

    internal static IResourceBuilder<PatroniNodeResource> WithNodeCommands(this IResourceBuilder<PatroniNodeResource> builder)
    {
        var node = builder.Resource;
        return builder
            .WithCommand(FailoverToNode, "Fail over to this node", context => RunAsync(node.Cluster, context,
                (rest, leader) => rest.FailoverAsync(leader, node.Name, context.CancellationToken)), new CommandOptions
            {
                Description = "Promotes this replica now, whatever the current leader's state (Patroni's manual failover).",
                ConfirmationMessage = $"Promote {node.Name} to primary?",
                IconName = "ArrowStepInRight",
                UpdateState = context => HasLeader(node.Cluster) && IsReplica(context.ResourceSnapshot) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            })
            .WithCommand(RestartPostgres, "Restart PostgreSQL", context => RunAsync(node.Cluster, context,
                (rest, _) => rest.RestartAsync(node.RestUrlIfAllocated ?? throw new HttpRequestException($"{node.Name} has no REST endpoint yet."), context.CancellationToken)), new CommandOptions
            {
                Description = "Restarts PostgreSQL on this node through Patroni; the node keeps its role.",
                ConfirmationMessage = $"Restart PostgreSQL on {node.Name}?",
                IconName = "ArrowCounterclockwise",
                UpdateState = context => PatroniStates.IsUp(context.ResourceSnapshot.State?.Text) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            });
    }

    /// <summary>Runs a cluster procedure for a dashboard command: its refusals and time-outs become the command's error.</summary>
    private static async Task<ExecuteCommandResult> RunProcedureAsync(ExecuteCommandContext context, string procedure, Func<Task> run)
    {
        try
        {
            await run();
            return CommandResults.Success();
        }
        catch (Exception ex) when (ex is PatroniRequestException or HttpRequestException or InvalidOperationException or TimeoutException or DockerCommandException)
        {
            context.Logger.LogWarning("{Procedure} stopped: {Message}", procedure, ex.Message);
            return CommandResults.Failure(ex.Message);
        }
    }

    /// <summary>A cluster command's options: asks before it runs, enabled while the cluster has a leader.</summary>
    private static CommandOptions WhileLeading(PatroniClusterResource cluster, string description, string confirmation, string icon) => new()
    {
        Description = description,
        ConfirmationMessage = confirmation,
        IconName = icon,
        UpdateState = _ => HasLeader(cluster) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
    };

    private static bool HasLeader(PatroniClusterResource cluster) => cluster.LastObservedState?.Leader is not null;

    private static bool IsReplica(CustomResourceSnapshot snapshot) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == PatroniProperties.Role)?.Value is string role && role is "replica" or "sync_standby" or "quorum_standby";

    /// <summary>Runs a REST call against the current leader's API and turns refusals into dashboard errors.</summary>
    private static async Task<ExecuteCommandResult> RunAsync(
        PatroniClusterResource cluster, ExecuteCommandContext context, Func<PatroniRestClient, Uri, Task<string>> call)
    {
        var logger = context.Logger;
        if (cluster.LastObservedState?.Leader is not { } leader || cluster.Nodes.FirstOrDefault(n => n.Name == leader.Name) is not { } leaderNode)
        {
            return CommandResults.Failure("The cluster has no leader right now.");
        }

        try
        {
            var rest = await cluster.CreateRestClientAsync(context.CancellationToken);
            var answer = await call(rest, leaderNode.RestUrlIfAllocated ?? throw new HttpRequestException($"{leaderNode.Name} has no REST endpoint yet."));
            logger.LogInformation("Patroni: {Answer}", answer);
            return CommandResults.Success();
        }
        catch (Exception ex) when (ex is PatroniRequestException or HttpRequestException)
        {
            logger.LogWarning("Patroni refused: {Message}", ex.Message);
            return CommandResults.Failure(ex.Message);
        }
    }
}
