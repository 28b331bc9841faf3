using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>Reading Patroni's view and timing the steps of <see cref="ReplicaMembership"/>.</summary>
public sealed partial class ReplicaMembership
{
    private IEnumerable<(string Name, Uri? Url)> RestUrls() => slots.Nodes.Select(n => (n, slots.RestUrl(n)));

    private async Task<ClusterState?> TryReadAsync(CancellationToken cancellationToken) =>
        (await rest.TryGetClusterFromAnyAsync(RestUrls(), cancellationToken)).State;

    private async Task<ClusterState> ReadAsync(CancellationToken cancellationToken)
    {
        var (state, error) = await rest.TryGetClusterFromAnyAsync(RestUrls(), cancellationToken);
        return state ?? throw new InvalidOperationException($"No Patroni node answers: {error}");
    }

    private async Task<Uri> LeaderUrlAsync(CancellationToken cancellationToken) =>
        (await ReadAsync(cancellationToken)).Leader is { } leader && slots.RestUrl(leader.Name) is { } url
            ? url : throw new InvalidOperationException("The cluster has no leader with a REST endpoint right now.");

    private async Task WaitForClusterAsync(Func<ClusterState, bool> condition, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (await TryReadAsync(cancellationToken) is not { } state || !condition(state))
        {
            if (clock.Elapsed > StepTimeout)
            {
                throw new TimeoutException($"Waited {StepTimeout.TotalSeconds:F0} s for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private Task<ProcedureStep> StepAsync(string description, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        ProcedureStep.RunAsync(description, step, logger, cancellationToken);

    private ReplicaChangeReport Done(ReplicaChangeReport report)
    {
        logger.LogInformation("Replica {Report}", report);
        return report;
    }
}
