using System.Globalization;
using IshChat.Cluster.Docker;
using IshChat.Cluster.Images;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Follows the container runtime's <c>die</c> events for one cluster's Patroni containers. When
/// one dies and the runtime confirms it is not running (not merely paused), it releases that
/// node's leader key with a compare-and-delete (<see cref="EtcdLeaderKey"/>), so a killed
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
    private DateTimeOffset? lastEventAt;

    /// <summary>How often the key was released, for tests and benchmarks.</summary>
    public int Releases { get; private set; }

    public void Start() => following ??= Task.Run(() => FollowAsync(stopping.Token));

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await FollowEventsAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Following container events failed, retrying: {Message}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private async Task FollowEventsAsync(CancellationToken cancellationToken)
    {
        // A stream that broke (engine restarted, client killed) resumes from the last event it saw, so a death
        // that happened in between is still seen; a release for a node that died long ago is a harmless no-op.
        var since = lastEventAt ?? DateTimeOffset.UtcNow;
        string[] arguments =
        [
            "events", "--since", since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            "--filter", "type=container", "--filter", "event=die", "--filter", $"label={ClusterImage.ComponentLabel}=patroni",
            "--format", "{{.Actor.ID}} {{.TimeNano}}",
        ];
        await foreach (var line in DockerCli.StreamAsync(arguments, cancellationToken))
        {
            var fields = line.Trim().Split(' ');
            if (fields.Length == 2 && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var nanoseconds))
            {
                lastEventAt = DateTimeOffset.FromUnixTimeMilliseconds(nanoseconds / 1_000_000);
            }

            if (await nodeNameOfContainer(fields[0], cancellationToken) is { } node)
            {
                await ReleaseIfDeadAsync(fields[0], node, cancellationToken);
            }
        }
    }

    private async Task ReleaseIfDeadAsync(string containerId, string node, CancellationToken cancellationToken)
    {
        if (!await DockerCli.IsConfirmedDeadAsync(containerId, cancellationToken))
        {
            return;
        }

        foreach (var etcd in etcdClientUrls())
        {
            try
            {
                if (await leaderKey.ReleaseIfHeldByAsync(etcd, node, cancellationToken))
                {
                    Releases++;
                    logger.LogInformation("{Node} died holding the leader key; released it so a replica takes over now", node);
                }

                return;
            }
            catch (HttpRequestException ex)
            {
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
