namespace IshChat.ServiceDefaults;

/// <summary>Where a service serves /metrics: a listener of its own, which Prometheus scrapes and clients never see.</summary>
public static class MetricsListener
{
    /// <summary>
    /// The host the metrics listener binds to (every interface: the Prometheus container reaches it through the host's
    /// gateway). The AppHost binds a project's other endpoints to localhost, so this one is told apart by it.
    /// </summary>
    public const string Host = "0.0.0.0";
}
