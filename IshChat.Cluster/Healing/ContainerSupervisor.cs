using System.Collections.Concurrent;
using IshChat.Cluster.Docker;
using IshChat.Cluster.Images;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Healing;

/// <summary>
/// Starts a cluster container again when it dies (killed, crashed, out of memory), with back-off, in the AppHost and
/// the Testcontainers cluster alike. Docker's own restart policies can't do this: the runtime treats <c>docker kill</c>
/// as a manual stop and never restarts after it. A stop asked for (<c>docker stop</c>, the dashboard's Stop, the AppHost
/// shutting down) is respected: the runtime reports a <c>stop</c> next to the <c>die</c> (Docker 28 just before it, older
/// engines just after), and a death with a stop on either side within moments is left alone. A Patroni node that comes back rejoins as a replica (pg_rewind).
/// </summary>
public sealed class ContainerSupervisor(
    Func<string, CancellationToken, Task<SupervisedContainer?>> supervisedContainer, ILogger logger) : IAsyncDisposable
{
    /// <summary>The first restart waits this long (and a stop arriving meanwhile cancels it); each further one doubles.</summary>
    public static readonly TimeSpan FirstBackOff = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaximumBackOff = TimeSpan.FromSeconds(30);

    /// <summary>A container that stayed up this long starts again from the first back-off after its next death.</summary>
    public static readonly TimeSpan Stable = TimeSpan.FromMinutes(1);

    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<string, Restarting> restarting = new();
    private readonly ConcurrentDictionary<string, int> heldDown = new();

    // When each container was last stopped on purpose: a death reported just after its stop is that stop.
    private readonly ConcurrentDictionary<string, DateTimeOffset> stoppedAt = new();

    /// <summary>A death this soon after a stop of the same container is the stop's own.</summary>
    private static readonly TimeSpan StopAndDeathApart = TimeSpan.FromSeconds(10);
    private Task? following;

    /// <summary>How many containers were started again, for tests and benchmarks.</summary>
    public int Restarts => restartCount;

    private int restartCount;

    public void Start() => following ??= Task.Run(() => FollowAsync(stopping.Token));

    /// <summary>
    /// Leaves <paramref name="containerId"/> dead until the result is disposed: for a fault that must last (a test
    /// that needs etcd's quorum gone for a while). Disposing does not start it; the caller repairs it.
    /// </summary>
    public IDisposable HoldDown(string containerId)
    {
        heldDown.AddOrUpdate(containerId, 1, (_, n) => n + 1);
        return new Release(() => heldDown.AddOrUpdate(containerId, 0, (_, n) => Math.Max(0, n - 1)));
    }

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in ContainerEvents.FollowAsync(ClusterImage.ComponentLabel, ["die", "stop"], logger, cancellationToken))
            {
                if (change.Action == "stop")
                {
                    // Asked for: whatever restart the death scheduled is called off, and the death still to come ignored.
                    stoppedAt[change.ContainerId] = DateTimeOffset.UtcNow;
                    if (restarting.TryGetValue(change.ContainerId, out var pending))
                    {
                        pending.CancelForStop();
                    }

                    continue;
                }

                if (stoppedAt.TryGetValue(change.ContainerId, out var stopped) && DateTimeOffset.UtcNow - stopped < StopAndDeathApart)
                {
                    continue;
                }

                if (await supervisedContainer(change.ContainerId, cancellationToken) is { } container)
                {
                    ScheduleRestart(change.ContainerId, container, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private void ScheduleRestart(string containerId, SupervisedContainer container, CancellationToken cancellationToken)
    {
        var state = restarting.AddOrUpdate(containerId, _ => new Restarting(FirstBackOff), (_, previous) => previous.Next());
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(state.BackOff, cancellationToken);
                if (state.StoppedOnPurpose || heldDown.GetValueOrDefault(containerId) > 0 || !await DockerCli.IsConfirmedDeadAsync(containerId, cancellationToken))
                {
                    return;
                }

                logger.LogWarning("{Container} died; starting it again (back-off {BackOff:F0} s)", container.Name, state.BackOff.TotalSeconds);
                await container.StartAsync(cancellationToken);
                Interlocked.Increment(ref restartCount);
            }
            catch (OperationCanceledException)
            {
                // The supervisor is shutting down.
            }
            catch (Exception ex)
            {
                // Nothing else will start it: try again after the next back-off.
                logger.LogWarning("Could not start {Container} again, retrying: {Message}", container.Name, ex.Message);
                ScheduleRestart(containerId, container, cancellationToken);
            }
        }, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (following is not null)
        {
            await following.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        stopping.Dispose();
    }

    /// <summary>One container's restart in waiting, and the back-off its next death would get.</summary>
    private sealed class Restarting(TimeSpan backOff)
    {
        private readonly DateTimeOffset scheduledAt = DateTimeOffset.UtcNow;
        private volatile bool stoppedOnPurpose;

        public TimeSpan BackOff { get; } = backOff;

        /// <summary>A stop followed the death: whoever stopped it wants it stopped.</summary>
        public bool StoppedOnPurpose => stoppedOnPurpose;

        public void CancelForStop() => stoppedOnPurpose = true;

        public Restarting Next() => DateTimeOffset.UtcNow - scheduledAt > Stable
            ? new Restarting(FirstBackOff)
            : new Restarting(TimeSpan.FromTicks(Math.Min(BackOff.Ticks * 2, MaximumBackOff.Ticks)));
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                release();
            }
        }
    }
}
