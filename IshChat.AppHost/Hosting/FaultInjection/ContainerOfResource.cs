namespace IshChat.AppHost.Hosting.FaultInjection;

internal static class ContainerOfResource
{
    // Aspire's name for the snapshot property holding the runtime's container id.
    private const string ContainerIdProperty = "container.id";

    /// <summary>The runtime's id of the container behind <paramref name="resource"/>, as the orchestrator last reported it.</summary>
    public static async Task<string?> ContainerIdAsync(this ResourceNotificationService notifications, IResource resource, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            var current = await notifications.WaitForResourceAsync(resource.Name, _ => true, timeout.Token);
            return current.Snapshot.Properties.FirstOrDefault(p => p.Name == ContainerIdProperty)?.Value as string is { Length: > 0 } id ? id : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
