using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Docker;

/// <summary>
/// Follows the runtime's events for the containers carrying a label, for as long as it is asked to. A stream that
/// breaks (engine restarted, client killed) is followed again from the last event it delivered (<c>--since</c>), so
/// an event in between is delivered late rather than lost; the one at the seam may come twice, so consumers must
/// treat an event as a hint to check the container's state, never as the state itself.
/// </summary>
public static class ContainerEvents
{
    public static async IAsyncEnumerable<ContainerEvent> FollowAsync(
        string label, IReadOnlyCollection<string> actions, ILogger logger, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var since = DateTimeOffset.UtcNow;
        while (!cancellationToken.IsCancellationRequested)
        {
            var arguments = new List<string>
            {
                "events", "--since", since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                "--filter", "type=container", "--filter", $"label={label}",
                "--format", "{{.Action}} {{.Actor.ID}} {{.TimeNano}} {{index .Actor.Attributes \"exitCode\"}}",
            };
            foreach (var action in actions)
            {
                arguments.AddRange(["--filter", $"event={action}"]);
            }

            var stream = DockerCli.StreamAsync(arguments, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                ContainerEvent? next;
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        break;
                    }

                    next = Parse(stream.Current);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }
                catch (Exception ex) when (ex is DockerCommandException or IOException or InvalidOperationException)
                {
                    logger.LogWarning("Following container events failed, following again: {Message}", ex.Message);
                    break;
                }

                if (next is not null)
                {
                    since = next.At;
                    yield return next;
                }
            }

            await stream.DisposeAsync();
            if (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static ContainerEvent? Parse(string line)
    {
        var fields = line.Trim().Split(' ');
        if (fields.Length < 3 || !long.TryParse(fields[2], CultureInfo.InvariantCulture, out var nanoseconds))
        {
            return null;
        }

        int? exitCode = fields.Length > 3 && int.TryParse(fields[3], CultureInfo.InvariantCulture, out var code) ? code : null;
        return new ContainerEvent(fields[0], fields[1], DateTimeOffset.FromUnixTimeMilliseconds(nanoseconds / 1_000_000), exitCode);
    }
}
