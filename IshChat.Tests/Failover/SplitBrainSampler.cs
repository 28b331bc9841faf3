using IshChat.Cluster.Testcontainers;

namespace IshChat.Tests.Failover;

/// <summary>
/// Watches, a few times a second, for two primaries as clients and Patroni would see them:
/// servers HAProxy routes writes to (its <c>primary</c> backend's UP servers) and members Patroni
/// calls leader. Split brain is either count above one at any moment.
/// </summary>
public sealed class SplitBrainSampler : IAsyncDisposable
{
    private static readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampling;

    private SplitBrainSampler(PatroniTestCluster cluster) => sampling = Task.Run(() => SampleAsync(cluster, stop.Token));

    public int MostWriteRoutes { get; private set; }

    /// <summary>The moments HAProxy routed writes to more than one server, with those servers' states.</summary>
    public List<string> DoubleRoutes { get; } = [];

    public int MostLeaders { get; private set; }

    public int Samples { get; private set; }

    public static SplitBrainSampler Start(PatroniTestCluster cluster) => new(cluster);

    private async Task SampleAsync(PatroniTestCluster cluster, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var statsPort = cluster.HAProxy.HostPort(IshChat.Cluster.ClusterPorts.HAProxyStats);
                var csv = await http.GetStringAsync($"http://127.0.0.1:{statsPort}/stats;csv", cancellationToken);
                var up = UpServers(csv, "primary");
                MostWriteRoutes = Math.Max(MostWriteRoutes, up.Count);
                if (up.Count > 1)
                {
                    DoubleRoutes.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {string.Join(", ", up)}");
                }
                if (await cluster.TryReadClusterAsync(cancellationToken) is { } state)
                {
                    MostLeaders = Math.Max(MostLeaders, state.Members.Count(m => m.IsLeader));
                }

                Samples++;
                await Task.Delay(300, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // A probe that doesn't answer says nothing about split brain.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>HAProxy's CSV: pxname,svname,…, status is column 17, last check status column 36.</summary>
    private static List<string> UpServers(string csv, string backend) => [.. csv.Split('\n')
        .Select(line => line.Split(','))
        .Where(f => f.Length > 36 && f[0] == backend && f[1] is not ("FRONTEND" or "BACKEND") && f[17].StartsWith("UP", StringComparison.Ordinal))
        .Select(f => $"{f[1]} {f[17]} (check {f[36]})")];

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await sampling;
        stop.Dispose();
    }
}
