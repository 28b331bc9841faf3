using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;

namespace IshChat.Bench;

/// <summary>
/// Counts, once a second, the connections a many-client run is about: the TCP connections open to the API's port (its
/// HTTP clients) and, where PgBouncer is in the path, PgBouncer's client and server connections (SHOW POOLS, summed over
/// every pool). Reports the peaks: the point of the run is many clients on few server connections.
/// </summary>
public sealed class ConnectionSampler(int apiPort, (TestClusterNode Container, string StatsPassword)? pgBouncer) : SamplingWindow
{
    private static readonly string[] serverStates = ["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login", "sv_active_cancel", "sv_being_canceled"];

    private readonly List<int> http = [];
    private readonly List<(int Clients, int Servers)> pooled = [];

    protected override string Report(int requests)
    {
        var parts = new List<string>();
        if (apiPort > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"HTTP connections to the API: peak {http.DefaultIfEmpty().Max()}, mean {(http.Count == 0 ? 0 : http.Average()):F0}"));
        }

        if (pgBouncer is not null)
        {
            parts.Add(pooled.Count == 0
                ? $"PgBouncer: no samples{(Failure is null ? "" : " (" + Failure + ")")}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"PgBouncer ({pooled.Count} samples of SHOW POOLS, every pool): client connections peak {pooled.Max(p => p.Clients)}, server connections peak {pooled.Max(p => p.Servers)} (mean {pooled.Average(p => p.Servers):F1})"));
        }

        return string.Join("; ", parts);
    }

    protected override async Task SampleAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stop))
        {
            if (apiPort > 0)
            {
                http.Add(IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
                    .Count(c => c.State == TcpState.Established && c.RemoteEndPoint.Port == apiPort && IPAddress.IsLoopback(c.RemoteEndPoint.Address)));
            }

            if (pgBouncer is { } bouncer)
            {
                var pools = await PgBouncerConsole.ShowAsync(bouncer.Container, bouncer.StatsPassword, "SHOW POOLS", stop);
                pooled.Add((pools.Sum(p => p.Number("cl_active") + p.Number("cl_waiting")), pools.Sum(p => serverStates.Sum(p.Number))));
            }
        }
    }
}
