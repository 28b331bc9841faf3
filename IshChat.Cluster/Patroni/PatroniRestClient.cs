using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// Speaks Patroni's REST API. Reads are open; switchover, failover and restart need the
/// REST API's basic-auth user. Timeouts are per request (give the HttpClient an infinite one):
/// a read must answer in seconds, while POST /failover answers only once the promotion is done.
/// </summary>
public sealed class PatroniRestClient(HttpClient http, string restApiPassword)
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(60);

    public async Task<ClusterState> GetClusterAsync(Uri node, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        return await http.GetFromJsonAsync<ClusterState>(new Uri(node, "cluster"), timeout.Token)
            ?? throw new InvalidOperationException($"{node} returned an empty /cluster document.");
    }

    /// <summary>
    /// Patroni's view from the first of <paramref name="nodes"/> whose REST API answers (every member serves the
    /// whole cluster's view); null with the last error when none does (all down, frozen or cut off).
    /// </summary>
    public async Task<(ClusterState? State, string? Error)> TryGetClusterFromAnyAsync(IEnumerable<(string Name, Uri? Url)> nodes, CancellationToken cancellationToken = default)
    {
        string? error = null;
        foreach (var (name, url) in nodes)
        {
            if (url is null)
            {
                error ??= $"{name}: no REST endpoint allocated yet";
                continue;
            }

            try
            {
                return (await GetClusterAsync(url, cancellationToken), null);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                error = $"{name}: {ex.Message}";
            }
        }

        return (null, error ?? "no Patroni node to ask");
    }

    /// <summary>
    /// What <paramref name="node"/>'s own Patroni says of its PostgreSQL (GET /patroni): its state and when it started. Unlike
    /// the cluster view, which may still show a stopped member's last state until its key expires, this is the process itself.
    /// </summary>
    public async Task<NodeStatus> GetNodeStatusAsync(Uri node, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        return await http.GetFromJsonAsync<NodeStatus>(new Uri(node, "patroni"), timeout.Token)
            ?? throw new InvalidOperationException($"{node} returned an empty /patroni document.");
    }

    /// <summary>Hands leadership from <paramref name="leader"/> to <paramref name="candidate"/> (or to the healthiest replica).</summary>
    public Task<string> SwitchoverAsync(Uri node, string leader, string? candidate, CancellationToken cancellationToken = default) =>
        PostAsync(node, "switchover", candidate is null ? new { leader } : new { leader, candidate }, cancellationToken);

    /// <summary>Promotes <paramref name="candidate"/> whatever the leader's state; Patroni's manual failover.</summary>
    public Task<string> FailoverAsync(Uri node, string candidate, CancellationToken cancellationToken = default) =>
        PostAsync(node, "failover", new { candidate }, cancellationToken);

    /// <summary>Restarts PostgreSQL on <paramref name="node"/> (Patroni stays up and keeps its role).</summary>
    public Task<string> RestartAsync(Uri node, CancellationToken cancellationToken = default) =>
        PostAsync(node, "restart", new { }, cancellationToken);

    /// <summary>Restarts PostgreSQL on <paramref name="node"/> only if a changed setting waits for it (Patroni's "pending restart").</summary>
    public Task<string> RestartIfPendingAsync(Uri node, CancellationToken cancellationToken = default) =>
        PostAsync(node, "restart", new { restart_pending = true }, cancellationToken);

    /// <summary>
    /// Sets PostgreSQL parameters in the cluster-wide dynamic configuration (<c>patronictl edit-config -p</c>): every
    /// member reloads them, and marks itself "pending restart" for those that only take effect on a restart.
    /// </summary>
    public Task<string> SetPostgresParametersAsync(Uri node, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", new { postgresql = new { parameters } }, cancellationToken);

    /// <summary>
    /// Patroni's maintenance mode (<c>patronictl pause</c>, PATCH /config {"pause": …}): Patroni then leaves PostgreSQL
    /// alone, e.g. does not resume a replica's WAL replay paused on purpose, which it otherwise does on its next loop.
    /// </summary>
    public Task<string> SetMaintenanceModeAsync(Uri node, bool paused, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", new { pause = paused }, cancellationToken);

    /// <summary>
    /// Has <paramref name="node"/> (a replica) throw its data away and clone again (<c>patronictl reinit</c>), from a
    /// replica when one offers itself (<c>tags.clonefrom</c>), else the leader.
    /// </summary>
    public Task<string> ReinitializeAsync(Uri node, CancellationToken cancellationToken = default) =>
        PostAsync(node, "reinitialize", new { force = true }, cancellationToken);

    /// <summary>
    /// Sets Patroni's <c>member_slots_ttl</c> (how long the leader keeps the slot of a member that is gone; Patroni's default
    /// 1800 s) to <paramref name="value"/>: seconds, Patroni's own text (<c>"30min"</c>), or null to remove it from the
    /// dynamic configuration so the default applies again.
    /// </summary>
    public Task<string> SetMemberSlotsTtlAsync(Uri node, object? value, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", new Dictionary<string, object?> { ["member_slots_ttl"] = value }, cancellationToken);

    /// <summary>
    /// Makes the cluster a standby of <paramref name="following"/> (its leader demotes to a standby leader streaming from
    /// there) or, with null, a cluster of its own again (the standby leader promotes): Patroni's <c>standby_cluster</c>.
    /// </summary>
    public Task<string> SetStandbyClusterAsync(Uri node, Regions.StandbyClusterSettings? following, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", new Dictionary<string, object?> { ["standby_cluster"] = following?.ToDynamicConfiguration() }, cancellationToken);

    /// <summary>The dynamic configuration's <c>member_slots_ttl</c> as written (e.g. <c>1800</c>, <c>"30min"</c>), or null when unset.</summary>
    public async Task<JsonElement?> GetMemberSlotsTtlAsync(Uri node, CancellationToken cancellationToken = default) =>
        (await GetDynamicConfigurationAsync(node, cancellationToken)).TryGetProperty("member_slots_ttl", out var ttl) ? ttl : null;

    /// <summary>Patroni's dynamic configuration as etcd holds it (GET /config).</summary>
    public async Task<JsonElement> GetDynamicConfigurationAsync(Uri node, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        return (await http.GetFromJsonAsync<JsonElement>(new Uri(node, "config"), timeout.Token)).Clone();
    }

    /// <summary>Changes the given keys of the dynamic configuration (<c>patronictl edit-config -s key=value</c>); the others stay.</summary>
    public Task<string> PatchDynamicConfigurationAsync(Uri node, IReadOnlyDictionary<string, object> keys, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", keys, cancellationToken);

    /// <summary>
    /// Writes back each key of the dynamic configuration that <paramref name="settings"/> owns and that differs from them
    /// (<see cref="DynamicConfiguration"/>), in one PATCH /config; returns what it changed, empty when nothing had drifted.
    /// Keys the settings don't own (<c>pause</c>, <c>member_slots_ttl</c>, PostgreSQL parameters) are left alone.
    /// </summary>
    public async Task<IReadOnlyList<ConfigurationDrift>> ReconcileDynamicConfigurationAsync(Uri node, PatroniSettings settings, CancellationToken cancellationToken = default)
    {
        var drift = DynamicConfiguration.Drift(await GetDynamicConfigurationAsync(node, cancellationToken), settings);
        if (drift.Count > 0)
        {
            await PatchDynamicConfigurationAsync(node, drift.ToDictionary(d => d.Key, d => d.Desired), cancellationToken);
        }

        return drift;
    }

    private Task<string> PostAsync(Uri node, string path, object body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, node, path, body, cancellationToken);

    private async Task<string> SendAsync(HttpMethod method, Uri node, string path, object body, CancellationToken cancellationToken)
    {
        // Patroni's REST server (Python's http.server) needs a Content-Length: JsonContent would stream chunked.
        using var request = new HttpRequestMessage(method, new Uri(node, path))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClusterRoles.RestApi}:{restApiPassword}")));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ActionTimeout);
        using var response = await http.SendAsync(request, timeout.Token);
        var text = (await response.Content.ReadAsStringAsync(timeout.Token)).Trim();
        if (!response.IsSuccessStatusCode)
        {
            throw new PatroniRequestException($"Patroni refused {method} /{path} ({(int)response.StatusCode}): {text}");
        }

        return text;
    }
}

