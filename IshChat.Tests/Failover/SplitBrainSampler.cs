using IshChat.Cluster.Testcontainers;

namespace IshChat.Tests.Failover;

/// <summary>
/// Watches, a few times a second, for two primaries: nodes that accept writes (each node asked
/// over its own socket with <c>docker exec</c>, which works even while it is cut off), servers
/// HAProxy would route writes to (UP in its <c>primary</c> backend with a passing last check; a
/// server whose last check timed out can't take a connection), and members Patroni calls leader.
/// Split brain is any of these counts above one at any moment.
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

    public int MostWritableNodes { get; private set; }

    /// <summary>The longest stretch during which more than one node accepted writes.</summary>
    public TimeSpan LongestDoubleWritable { get; private set; }

    private DateTime? doubleWritableSince;

    public int Samples { get; private set; }

    public static SplitBrainSampler Start(PatroniTestCluster cluster) => new(cluster);

    private async Task SampleAsync(PatroniTestCluster cluster, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var statsPort = cluster.HAProxy.HostPort(ClusterPorts.HAProxyStats);
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

                var writable = await Task.WhenAll(cluster.Nodes.Select(node => AcceptsWritesAsync(cluster, node, cancellationToken)));
                MostWritableNodes = Math.Max(MostWritableNodes, writable.Count(w => w));
                if (writable.Count(w => w) > 1)
                {
                    doubleWritableSince ??= DateTime.UtcNow;
                    LongestDoubleWritable = TimeSpan.FromTicks(Math.Max(LongestDoubleWritable.Ticks, (DateTime.UtcNow - doubleWritableSince.Value).Ticks));
                }
                else
                {
                    doubleWritableSince = null;
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
        .Where(f => f.Length > 36 && f[0] == backend && f[1] is not ("FRONTEND" or "BACKEND")
            && f[17].StartsWith("UP", StringComparison.Ordinal) && f[36] == "L7OK")
        .Select(f => $"{f[1]} {f[17]} (check {f[36]})")];

    /// <summary>A node that is down or frozen answers nothing and accepts nothing.</summary>
    private static async Task<bool> AcceptsWritesAsync(PatroniTestCluster cluster, TestClusterNode node, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            return await cluster.PsqlInsideAsync(node, "SELECT pg_is_in_recovery()", timeout.Token) == "f";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await sampling;
        stop.Dispose();
    }
}
