using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// Once per AppHost start, as soon as the cluster has a leader: writes the AppHost's Patroni settings (synchronous mode,
/// lease, lag limit…) over etcd's copy of the dynamic configuration where they differ. A cluster that starts again from its
/// volumes keeps what it was bootstrapped with (Patroni reads <c>bootstrap.dcs</c> only when it initialises a cluster), so
/// without this a changed <c>IshChat:SynchronousMode</c>, or a new default, would silently not apply.
/// </summary>
internal sealed class DynamicConfigurationReconciler(PatroniClusterResource cluster, ILogger logger)
{
    public bool Done { get; private set; }

    /// <summary>Tries each node's REST API until one takes the change; leaves <see cref="Done"/> false to be called again on the next poll.</summary>
    public async Task TryAsync(PatroniRestClient rest, CancellationToken cancellationToken)
    {
        string? lastError = null;
        foreach (var node in cluster.ServingNodes)
        {
            if (node.RestUrlIfAllocated is not { } url)
            {
                continue;
            }

            try
            {
                var drift = await rest.ReconcileDynamicConfigurationAsync(url, cluster.Settings, cancellationToken);
                if (drift.Count > 0)
                {
                    logger.LogWarning(
                        "Patroni's dynamic configuration differed from the AppHost's settings (it keeps what the cluster was bootstrapped with); written back: {Drift}",
                        string.Join("; ", drift));
                }
                else
                {
                    logger.LogInformation("Patroni's dynamic configuration matches the AppHost's settings");
                }

                Done = true;
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or PatroniRequestException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
            {
                lastError = $"{node.Name}: {ex.Message}";
            }
        }

        logger.LogDebug("Patroni's dynamic configuration not checked yet: {Error}", lastError ?? "no REST endpoint allocated");
    }
}
