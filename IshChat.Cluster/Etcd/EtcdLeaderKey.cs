using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Patroni's leader key in etcd (<c>/service/&lt;scope&gt;/leader</c>, holding the leader's name).
/// Patroni's lease alone keeps a dead leader's key for up to ttl (≥ 20 s). When the container
/// runtime confirms the leader is dead, deleting the key lets the replicas elect a new leader
/// on their next loop. The delete is a compare-and-delete: it happens only while the key still
/// names the dead node, so it can never remove a newer leader's key. A frozen or partitioned
/// node is not confirmed dead and keeps its lease: it may still be alive.
/// </summary>
public sealed class EtcdLeaderKey(HttpClient http, string scope, string @namespace = "/service")
{
    public string Key => $"{@namespace.TrimEnd('/')}/{scope}/leader";

    /// <summary>Deletes the leader key if and only if it names <paramref name="deadNode"/>; true if it did.</summary>
    public async Task<bool> ReleaseIfHeldByAsync(Uri etcdClientUrl, string deadNode, CancellationToken cancellationToken = default)
    {
        var key = Base64(Key);
        var request = new TxnRequest(
            [new Compare(key, "EQUAL", "VALUE", Base64(deadNode))],
            [new RequestOp(new DeleteRange(key))]);
        using var response = await http.PostAsJsonAsync(new Uri(etcdClientUrl, "/v3/kv/txn"), request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var result = await response.Content.ReadFromJsonAsync<TxnResponse>(cancellationToken);
        return result?.Succeeded == true;
    }

    /// <summary>The node named in the leader key, or null when no leader holds it.</summary>
    public async Task<string?> ReadAsync(Uri etcdClientUrl, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsJsonAsync(new Uri(etcdClientUrl, "/v3/kv/range"), new { key = Base64(Key) }, cancellationToken);
        response.EnsureSuccessStatusCode();
        var result = await response.Content.ReadFromJsonAsync<RangeResponse>(cancellationToken);
        return result?.Kvs is [{ Value: { } value }, ..] ? Encoding.UTF8.GetString(Convert.FromBase64String(value)) : null;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private sealed record TxnRequest(
        [property: JsonPropertyName("compare")] Compare[] Compare,
        [property: JsonPropertyName("success")] RequestOp[] Success);

    private sealed record Compare(
        [property: JsonPropertyName("key")] string Key,
        [property: JsonPropertyName("result")] string Result,
        [property: JsonPropertyName("target")] string Target,
        [property: JsonPropertyName("value")] string Value);

    private sealed record RequestOp([property: JsonPropertyName("request_delete_range")] DeleteRange RequestDeleteRange);

    private sealed record DeleteRange([property: JsonPropertyName("key")] string Key);

    private sealed record TxnResponse([property: JsonPropertyName("succeeded")] bool Succeeded);

    private sealed record RangeResponse([property: JsonPropertyName("kvs")] KeyValue[]? Kvs);

    private sealed record KeyValue([property: JsonPropertyName("value")] string? Value);
}
