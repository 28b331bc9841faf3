using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Patroni's dynamic configuration as etcd stores it (<c>/service/&lt;scope&gt;/config</c>, a JSON document), written
/// directly while no Patroni node of the cluster runs: the only way to change what a node reads on its first loop,
/// before its REST API exists. <see cref="Regions.RegionFence"/> uses it to fence a region that comes back.
/// </summary>
public sealed class PatroniConfigKey(HttpClient http, string scope, string @namespace = "/service")
{
    public string Key => $"{@namespace.TrimEnd('/')}/{scope}/config";

    /// <summary>
    /// Sets <paramref name="key"/> of the stored configuration to <paramref name="value"/> (null removes it), keeping
    /// every other key, as one compare-and-swap on the revision read: a concurrent writer makes it read and try again.
    /// </summary>
    public async Task SetAsync(Uri etcdClientUrl, string key, JsonNode? value, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (document, modRevision) = await ReadAsync(etcdClientUrl, cancellationToken);
            var configuration = document ?? new JsonObject();
            configuration.Remove(key);
            if (value is not null)
            {
                configuration[key] = value.DeepClone();
            }

            var etcdKey = Base64(Key);
            // A key that does not exist has mod_revision 0, so "EQUAL 0" is "still absent".
            if (await EtcdGateway.TxnAsync(http, etcdClientUrl,
                [new EtcdGateway.Compare(etcdKey, "EQUAL", "MOD", ModRevision: modRevision.ToString(CultureInfo.InvariantCulture))],
                [new RequestOp(new PutRequest(etcdKey, Base64(configuration.ToJsonString())))], cancellationToken))
            {
                return;
            }

            if (attempt == 5)
            {
                throw new InvalidOperationException($"{Key} kept changing under five attempts to set {key}.");
            }
        }
    }

    /// <summary>The stored document (null when the key does not exist) and its revision (0 when absent).</summary>
    public async Task<(JsonObject? Document, long ModRevision)> ReadAsync(Uri etcdClientUrl, CancellationToken cancellationToken = default)
    {
        return await EtcdGateway.RangeAsync(http, etcdClientUrl, Key, cancellationToken) is { Value: { } value } kv
            ? (JsonNode.Parse(Convert.FromBase64String(value))?.AsObject(), long.Parse(kv.ModRevision ?? "0", CultureInfo.InvariantCulture))
            : (null, 0);
    }

    private static string Base64(string text) => EtcdGateway.Base64(text);

    private sealed record RequestOp([property: JsonPropertyName("request_put")] PutRequest RequestPut);

    private sealed record PutRequest([property: JsonPropertyName("key")] string Key, [property: JsonPropertyName("value")] string Value);
}
