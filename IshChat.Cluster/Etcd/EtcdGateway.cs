using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// etcd's v3 JSON gateway as <see cref="EtcdLeaderKey"/> and <see cref="PatroniConfigKey"/> speak it: keys and values in
/// base64, int64 fields as strings (left out when zero), field names matched exactly.
/// </summary>
internal static class EtcdGateway
{
    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>The key's first (only) entry, or null when it does not exist.</summary>
    public static async Task<KeyValue?> RangeAsync(HttpClient http, Uri etcdClientUrl, string key, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(new Uri(etcdClientUrl, "/v3/kv/range"), new { key = Base64(key) }, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        var result = await response.Content.ReadFromJsonAsync<RangeResponse>(cancellationToken);
        return result?.Kvs is [{ Value: not null } kv, ..] ? kv : null;
    }

    /// <summary>Posts a transaction (its operations as etcd's <c>request_put</c>, <c>request_delete_range</c> objects); true when every comparison held and the operations ran.</summary>
    public static async Task<bool> TxnAsync(HttpClient http, Uri etcdClientUrl, IReadOnlyList<Compare> compare, IReadOnlyList<object> success, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(new Uri(etcdClientUrl, "/v3/kv/txn"), new TxnRequest(compare, success), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<TxnResponse>(cancellationToken))?.Succeeded == true;
    }

    /// <summary>As <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/>, with etcd's own error in the message (a refused permission says which).</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"etcd answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}", null, response.StatusCode);
        }
    }

    /// <summary>One comparison of a transaction: <paramref name="Target"/> VALUE with a base64 value, or MOD with a revision (0: the key is absent).</summary>
    internal sealed record Compare(
        [property: JsonPropertyName("key")] string Key,
        [property: JsonPropertyName("result")] string Result,
        [property: JsonPropertyName("target")] string Target,
        [property: JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value = null,
        [property: JsonPropertyName("mod_revision"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ModRevision = null);

    private sealed record TxnRequest(
        [property: JsonPropertyName("compare")] IReadOnlyList<Compare> Compare,
        [property: JsonPropertyName("success")] IReadOnlyList<object> Success);

    internal sealed record KeyValue(
        [property: JsonPropertyName("value")] string? Value,
        [property: JsonPropertyName("mod_revision")] string? ModRevision,
        [property: JsonPropertyName("lease")] string? Lease);

    private sealed record TxnResponse([property: JsonPropertyName("succeeded")] bool Succeeded);

    private sealed record RangeResponse([property: JsonPropertyName("kvs")] KeyValue[]? Kvs);
}
