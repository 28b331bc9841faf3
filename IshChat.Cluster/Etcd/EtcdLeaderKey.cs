using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Patroni's leader key in etcd (<c>/service/&lt;scope&gt;/leader</c>, holding the leader's name).
/// Patroni's lease alone keeps a dead leader's key for up to ttl (≥ 20 s). When the container
/// runtime confirms the leader is dead, deleting the key lets the replicas elect a new leader
/// on their next loop. The delete is a compare-and-delete on the key exactly as it was read
/// before the death was confirmed (<see cref="LeaderKeyState"/>: name and revision), so it can
/// never remove a newer leader's key, nor the key of the same node restarted in between. A frozen
/// or partitioned node is not confirmed dead and keeps its lease: it may still be alive.
/// </summary>
public sealed class EtcdLeaderKey(HttpClient http, string scope, string @namespace = "/service")
{
    public string Key => $"{@namespace.TrimEnd('/')}/{scope}/leader";

    /// <summary>The key as it is now, or null when no leader holds it.</summary>
    public async Task<LeaderKeyState?> ReadAsync(Uri etcdClientUrl, CancellationToken cancellationToken = default)
    {
        return await EtcdGateway.RangeAsync(http, etcdClientUrl, Key, cancellationToken) is { Value: { } value } kv
            ? new LeaderKeyState(Encoding.UTF8.GetString(Convert.FromBase64String(value)), Int64(kv.ModRevision), Int64(kv.Lease))
            : null;
    }

    /// <summary>
    /// Deletes the key if and only if it is still exactly <paramref name="seen"/>: same holder, same revision. True if it did.
    /// </summary>
    public async Task<bool> ReleaseIfUnchangedAsync(Uri etcdClientUrl, LeaderKeyState seen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var key = Base64(Key);
        return await EtcdGateway.TxnAsync(http, etcdClientUrl,
            [
                new EtcdGateway.Compare(key, "EQUAL", "VALUE", Value: Base64(seen.Holder)),
                new EtcdGateway.Compare(key, "EQUAL", "MOD", ModRevision: seen.ModRevision.ToString(CultureInfo.InvariantCulture)),
            ],
            [new RequestOp(new DeleteRange(key))], cancellationToken);
    }

    /// <summary>
    /// How long ago the holder of <paramref name="lease"/> last renewed it, as etcd's quorum sees it: granted ttl minus
    /// what is left (whole seconds). An expired or revoked lease counts as silent for its whole ttl.
    /// </summary>
    public async Task<TimeSpan> LeaseSilenceAsync(Uri etcdClientUrl, long lease, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsJsonAsync(
            new Uri(etcdClientUrl, "/v3/lease/timetolive"), new LeaseRequest(lease.ToString(CultureInfo.InvariantCulture)), cancellationToken);
        await EtcdGateway.EnsureSuccessAsync(response, cancellationToken);
        var result = await response.Content.ReadFromJsonAsync<LeaseResponse>(cancellationToken);
        var granted = Int64(result?.GrantedTtl);
        var remaining = Int64(result?.Ttl);
        return TimeSpan.FromSeconds(remaining < 0 || granted == 0 ? Math.Max(granted, 1) : granted - remaining);
    }

    // etcd's JSON gateway writes int64 fields as strings, and leaves out fields that are zero.
    private static long Int64(string? text) => long.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private static string Base64(string text) => EtcdGateway.Base64(text);

    private sealed record RequestOp([property: JsonPropertyName("request_delete_range")] DeleteRange RequestDeleteRange);

    private sealed record DeleteRange([property: JsonPropertyName("key")] string Key);

    // etcd's gateway matches field names exactly ("ID", not the camelCase "id" a default serializer writes) and drops unknown ones.
    private sealed record LeaseRequest([property: JsonPropertyName("ID")] string Id);

    private sealed record LeaseResponse(
        [property: JsonPropertyName("TTL")] string? Ttl,
        [property: JsonPropertyName("grantedTTL")] string? GrantedTtl);
}
