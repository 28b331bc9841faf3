using IshChat.Cluster.Docker;
using IshChat.Cluster.Images;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Follows the container runtime's <c>die</c> events for one cluster's Patroni containers. When
/// one dies and the runtime confirms it is not running (not merely paused), it releases that
/// node's leader key with a compare-and-delete on the key as read before the confirmation
/// (<see cref="EtcdLeaderKey"/>), so a killed
/// primary is replaced within a couple of Patroni loops instead of after its full lease.
/// </summary>
public sealed class DeadLeaderReleaser(
    EtcdLeaderKey leaderKey,
    Func<string, CancellationToken, Task<string?>> nodeNameOfContainer,
    Func<IReadOnlyList<Uri>> etcdClientUrls,
    ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private Task? following;

    /// <summary>How often the key was released, for tests and benchmarks.</summary>
    public int Releases { get; private set; }

    public void Start() => following ??= Task.Run(() => FollowAsync(stopping.Token));

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var death in ContainerEvents.FollowAsync($"{ClusterImage.ComponentLabel}=patroni", ["die"], logger, cancellationToken))
            {
                try
                {
                    if (await nodeNameOfContainer(death.ContainerId, cancellationToken) is { } node)
                    {
                        await ReleaseIfDeadAsync(death.ContainerId, node, cancellationToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning("Could not handle the death of {Container}: {Message}", death.ContainerId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>
    /// Reads the key first, then asks the runtime whether the container is dead, then deletes the key only if it is
    /// still what was read: a node that restarted before the check is running (no release); one that restarted after
    /// it has written its key anew (new revision, so the compare fails). A live leader's key is never deleted.
    /// </summary>
    private async Task ReleaseIfDeadAsync(string containerId, string node, CancellationToken cancellationToken)
    {
        foreach (var etcd in etcdClientUrls())
        {
            try
            {
                if (await leaderKey.ReadAsync(etcd, cancellationToken) is not { } seen || seen.Holder != node)
                {
                    return;
                }

                if (!await DockerCli.IsConfirmedDeadAsync(containerId, cancellationToken))
                {
                    return;
                }

                if (await leaderKey.ReleaseIfUnchangedAsync(etcd, seen, cancellationToken))
                {
                    Releases++;
                    logger.LogInformation("{Node} died holding the leader key; released it so a replica takes over now", node);
                }

                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Down, slow or cut off: the next member answers for the same cluster.
                logger.LogDebug("etcd {Etcd} did not answer: {Message}", etcd, ex.Message);
            }
        }

        logger.LogWarning("No etcd member answered; {Node}'s lease will expire on its own", node);
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
}
