using System.Diagnostics;
using IshChat.Cluster.Backup;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// "Restore instance X to time T": a side restore of the backup repository to T (<see cref="SideRestore"/>), then
/// that instance's rows put back into the live database (<see cref="InstanceCopy"/>) while every other instance
/// carries on untouched. The one entry point of the CLI, the dashboard command, the tests and the bench.
/// </summary>
public static class InstanceRestorer
{
    /// <param name="liveNodeContainer">Any Patroni node's container (name or id): the repository, image and network to restore from.</param>
    /// <param name="liveConnectionString">The live database as the admin role (ishchat_admin, which inherits the app role's row-level security) through the read-write route.</param>
    public static async Task<InstanceRestoreReport> RestoreAsync(
        string liveNodeContainer, string liveConnectionString, Guid instanceId, RestoreTarget target, bool overwrite, bool dryRun,
        TimeSpan sideRestoreTimeout, IProgress<string>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(liveConnectionString);
        if (instanceId == Guid.Empty)
        {
            throw new ArgumentException("The instance id is empty.", nameof(instanceId));
        }

        progress?.Report($"Side restore of the backup repository to {target} (from {liveNodeContainer}'s settings)");
        var sideProgress = progress is null ? null : new SynchronousProgress<SideRestoreProgress>(p => progress.Report(p.ToString()));
        await using var side = await SideRestore.StartAsync(liveNodeContainer, target, sideRestoreTimeout, sideProgress, logger, cancellationToken);
        progress?.Report($"Side restore ready in {side.Duration.TotalSeconds:F1} s; comparing instance {instanceId} with the live database");
        var stopwatch = Stopwatch.StartNew();
        var tables = await InstanceCopy.RunAsync(side.ConnectionString(), liveConnectionString, instanceId, overwrite, dryRun, progress, cancellationToken);
        return new InstanceRestoreReport(instanceId, target, overwrite, dryRun, side.Duration, stopwatch.Elapsed, tables);
    }

    /// <summary><see cref="Progress{T}"/> posts to the thread pool, so lines could arrive out of order or after the report.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
