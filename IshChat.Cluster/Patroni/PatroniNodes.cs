using System.Diagnostics;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// A Patroni cluster as the procedures that change it see it (<see cref="RollingRestart"/>, the region promotion and
/// fence): its members' REST URLs (null while not allocated), read through any member that answers, and waited on until
/// a condition holds.
/// </summary>
/// <param name="rest">Authorised for Patroni's unsafe methods (PATCH /config, POST /reinitialize).</param>
/// <param name="nodes">Every member the region runs, by name.</param>
public sealed class PatroniNodes(PatroniRestClient rest, Func<IEnumerable<(string Name, Uri? Url)>> nodes)
{
    public PatroniRestClient Rest => rest;

    public int Count => nodes().Count();

    public Uri UrlOf(string name) => nodes().FirstOrDefault(n => n.Name == name).Url
        ?? throw new InvalidOperationException($"{name} has no REST endpoint.");

    /// <summary>The first member whose REST API answers: any of them reads and writes the region's dynamic configuration.</summary>
    public async Task<Uri> AnyAnsweringAsync(CancellationToken cancellationToken)
    {
        var state = await ReadAsync(cancellationToken);
        return UrlOf((state.Leader ?? state.Members[0]).Name);
    }

    public async Task<ClusterState> ReadAsync(CancellationToken cancellationToken)
    {
        var (state, error) = await rest.TryGetClusterFromAnyAsync(nodes(), cancellationToken);
        return state is { Members.Count: > 0 } ? state : throw new InvalidOperationException($"No Patroni node answers: {error ?? "no members"}");
    }

    /// <summary>
    /// Polls twice a second until <paramref name="condition"/> holds; on timeout throws naming <paramref name="what"/> and the
    /// last view (<paramref name="describe"/>d), or returns null when <paramref name="throwOnTimeout"/> is off.
    /// </summary>
    public async Task<ClusterState?> WaitForAsync(
        Func<ClusterState, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, Func<ClusterState, string>? describe = null, bool throwOnTimeout = true)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < timeout)
        {
            var (state, error) = await rest.TryGetClusterFromAnyAsync(nodes(), cancellationToken);
            if (state is not null && condition(state))
            {
                return state;
            }

            last = state is null ? error ?? "no answer" : (describe ?? Describe)(state);
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        return throwOnTimeout ? throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what}; last seen: {last}.") : null;
    }

    /// <summary>
    /// Polls one member's own REST API (GET /patroni) twice a second until <paramref name="condition"/> holds: unlike the
    /// cluster view, which may still show a stopped member's last state until its key expires, this is the process itself.
    /// </summary>
    public async Task WaitForNodeAsync(string name, Func<NodeStatus, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < timeout)
        {
            try
            {
                var status = await rest.GetNodeStatusAsync(UrlOf(name), cancellationToken);
                if (condition(status))
                {
                    return;
                }

                last = $"state {status.State}, started {status.PostmasterStartTimeText ?? "never"}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException
                                       && !cancellationToken.IsCancellationRequested)
            {
                last = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what}; last seen: {last}.");
    }

    public static string Describe(ClusterState state) =>
        string.Join(", ", state.Members.Select(m => $"{m.Name} {m.Role} {m.State} tl {m.Timeline}"));
}
