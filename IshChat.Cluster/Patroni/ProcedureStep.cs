using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>One step of a cluster procedure (a rolling restart, a replica added or removed) and how long it took.</summary>
public sealed record ProcedureStep(string Description, TimeSpan Duration)
{
    /// <summary>Runs <paramref name="step"/>, logging its start and its duration, which operators read as progress.</summary>
    public static async Task<ProcedureStep> RunAsync(string description, Func<CancellationToken, Task> step, ILogger logger, CancellationToken cancellationToken)
    {
        logger.LogInformation("{Step}…", description);
        var clock = Stopwatch.StartNew();
        await step(cancellationToken);
        logger.LogInformation("{Step}: done in {Seconds:F1} s", description, clock.Elapsed.TotalSeconds);
        return new ProcedureStep(description, clock.Elapsed);
    }
}
