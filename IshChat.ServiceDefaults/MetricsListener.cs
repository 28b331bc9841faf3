using System.Net;

namespace IshChat.ServiceDefaults;

/// <summary>Where a service serves /metrics: a listener of its own, which Prometheus scrapes and clients never see.</summary>
public static class MetricsListener
{
    /// <summary>
    /// Where the AppHost binds the metrics listener when it can't learn the Docker host's gateway address (the one the
    /// Prometheus container reaches through host-gateway): every interface.
    /// </summary>
    public const string AnyAddress = "0.0.0.0";

    /// <summary>
    /// Whether <paramref name="url"/>, one of a service's listening URLs, is its metrics listener: the one bound to an
    /// address that is not loopback (the Docker host's gateway, or <see cref="AnyAddress"/>). The AppHost binds every
    /// other endpoint to localhost, and a URL such as <c>http://+:8080</c> names no address, so neither is taken for it.
    /// </summary>
    public static bool IsMetricsListener(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return IPAddress.TryParse(url.Host, out var address) && !IPAddress.IsLoopback(address);
    }
}
