using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IshChat.Cluster;

/// <summary>A member as Patroni's <c>GET /cluster</c> reports it.</summary>
public sealed record PatroniMember
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>leader, replica, sync_standby, quorum_standby or standby_leader.</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }

    /// <summary>running, streaming, starting, stopped, crashed, …</summary>
    [JsonPropertyName("state")] public string? State { get; init; }

    [JsonPropertyName("timeline")] public long? Timeline { get; init; }

    /// <summary>Replication lag in bytes; Patroni reports "unknown" when it can't tell.</summary>
    [JsonPropertyName("lag")] public JsonElement? Lag { get; init; }

    public bool IsLeader => Role is "leader" or "standby_leader";

    public bool IsStreamingReplica => !IsLeader && State == "streaming";

    public long? LagBytes => Lag is { ValueKind: JsonValueKind.Number } lag ? lag.GetInt64() : null;
}

public sealed record PatroniClusterState
{
    [JsonPropertyName("members")] public IReadOnlyList<PatroniMember> Members { get; init; } = [];

    public PatroniMember? Leader => Members.SingleOrDefault(m => m.IsLeader) is { } leader && Members.Count(m => m.IsLeader) == 1 ? leader : null;
}

/// <summary>
/// Speaks Patroni's REST API. Reads are open; switchover, failover and restart need the
/// REST API's basic-auth user. Timeouts are per request (give the HttpClient an infinite one):
/// a read must answer in seconds, while POST /failover answers only once the promotion is done.
/// </summary>
public sealed class PatroniRestClient(HttpClient http, string restApiPassword)
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(60);

    public async Task<PatroniClusterState> GetClusterAsync(Uri node, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        return await http.GetFromJsonAsync<PatroniClusterState>(new Uri(node, "cluster"), timeout.Token)
            ?? throw new InvalidOperationException($"{node} returned an empty /cluster document.");
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

    /// <summary>
    /// Patroni's maintenance mode (<c>patronictl pause</c>, PATCH /config {"pause": …}): Patroni then leaves PostgreSQL
    /// alone, e.g. does not resume a replica's WAL replay paused on purpose, which it otherwise does on its next loop.
    /// </summary>
    public Task<string> SetMaintenanceModeAsync(Uri node, bool paused, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, node, "config", new { pause = paused }, cancellationToken);

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

public sealed class PatroniRequestException(string message) : Exception(message);
