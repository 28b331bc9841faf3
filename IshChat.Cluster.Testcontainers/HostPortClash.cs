using DotNet.Testcontainers.Containers;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// HACK: Docker publishes a container's port on a random host port from the range the kernel also hands outgoing
/// connections (32768–60999); on a machine busy with many connections, the one it picks is sometimes held by a client
/// socket and the start fails with "bind: address already in use". A new container gets another port.
/// </summary>
public static class HostPortClash
{
    private const int Attempts = 4;

    /// <summary>Builds and starts a container, building a fresh one (another random port) after a clash.</summary>
    public static async Task<TContainer> StartAsync<TContainer>(
        Func<TContainer> build, ILogger logger, CancellationToken cancellationToken, Action<TContainer>? created = null, Action<TContainer>? abandoned = null)
        where TContainer : IContainer
    {
        for (var attempt = 1; ; attempt++)
        {
            var container = build();
            created?.Invoke(container);
            try
            {
                await container.StartAsync(cancellationToken);
                return container;
            }
            catch (Exception ex) when (attempt < Attempts && ex.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                logger.LogWarning("A random host port was taken ({Message}); starting a new container", ex.Message);
                abandoned?.Invoke(container);
                await container.DisposeAsync();
            }
        }
    }
}
