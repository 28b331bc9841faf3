using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using IshChat.Cluster.Etcd;
using IshChat.Cluster.Tls;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Etcd;

/// <summary>
/// The dead-leader fast path against a real etcd member: the compare-and-delete removes the key only while it is
/// exactly as it was read, so a holder that restarted and took its key again keeps it.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class LeaderKeyReleaseTests : IAsyncLifetime, IDisposable
{
    private const string Scope = "release-test";
    private SingleEtcdMember etcd = null!;
    private HttpClient http = null!;
    private Uri etcdUrl = null!;

    public async Task InitializeAsync()
    {
        etcd = await SingleEtcdMember.StartAsync("release-test");
        // etcd takes only clients with a certificate its CA issued.
        http = new HttpClient(ClusterHttp.CreateHandler(etcd.Authority)) { Timeout = TimeSpan.FromSeconds(10) };
        etcdUrl = etcd.ClientUrl;
    }

    public async Task DisposeAsync() => await etcd.DisposeAsync();

    public void Dispose() => http.Dispose();

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task KeyOfAHolderThatRestartedAndTookItAgainIsNeverReleased()
    {
        // Given pg-0 holding the leader key, as read when its container died
        var leaderKey = new EtcdLeaderKey(http, Scope);
        await TakeKeyAsync(leaderKey.Key, "pg-0");
        var seenAtDeath = await leaderKey.ReadAsync(etcdUrl);
        Assert.Equal("pg-0", seenAtDeath?.Holder);

        // When pg-0 restarts under the same name and writes its key again before the release lands
        await TakeKeyAsync(leaderKey.Key, "pg-0");
        var released = await leaderKey.ReleaseIfUnchangedAsync(etcdUrl, seenAtDeath!);

        // Then the release does nothing: the live leader keeps its key
        Assert.False(released);
        var now = await leaderKey.ReadAsync(etcdUrl);
        Assert.Equal("pg-0", now?.Holder);
        Assert.NotEqual(seenAtDeath!.ModRevision, now!.ModRevision);
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task KeyOfADeadHolderIsReleasedAndANewLeadersKeyIsNot()
    {
        // Given pg-0's key as read at its death
        var leaderKey = new EtcdLeaderKey(http, Scope + "-2");
        await TakeKeyAsync(leaderKey.Key, "pg-0");
        var seen = (await leaderKey.ReadAsync(etcdUrl))!;

        // When it is released, then pg-1 leads and a late duplicate release of pg-0 arrives
        var first = await leaderKey.ReleaseIfUnchangedAsync(etcdUrl, seen);
        await TakeKeyAsync(leaderKey.Key, "pg-1");
        var duplicate = await leaderKey.ReleaseIfUnchangedAsync(etcdUrl, seen);

        // Then only the first release deleted anything, and pg-1 keeps its key
        Assert.True(first);
        Assert.False(duplicate);
        Assert.Equal("pg-1", (await leaderKey.ReadAsync(etcdUrl))?.Holder);
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task LeaseSilenceGrowsWhileTheHolderDoesNotRenewAndRestartsWhenItDoes()
    {
        // Given pg-0 holding the leader key under a 20 s lease
        var leaderKey = new EtcdLeaderKey(http, Scope + "-3");
        var sinceGrant = Stopwatch.StartNew();
        var lease = await TakeKeyAsync(leaderKey.Key, "pg-0");
        var key = (await leaderKey.ReadAsync(etcdUrl))!;
        Assert.Equal(lease, key.Lease);

        // When it renews nothing for 3 s, then renews
        await Task.Delay(TimeSpan.FromSeconds(3));
        var silent = await leaderKey.LeaseSilenceAsync(etcdUrl, key.Lease);
        var silenceBound = sinceGrant.Elapsed;
        var sinceRenewal = Stopwatch.StartNew();
        using (var keepAlive = await http.PostAsJsonAsync(new Uri(etcdUrl, "/v3/lease/keepalive"), new LeaseId(lease.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            keepAlive.EnsureSuccessStatusCode();
        }

        var renewed = await leaderKey.LeaseSilenceAsync(etcdUrl, key.Lease);
        var renewedBound = sinceRenewal.Elapsed;

        // Then etcd's view (whole seconds, so up to one more) shows the silence, and its end. Bounded by the time that
        // really passed, not a fixed figure: on a loaded machine (an AppHost starting beside it) each HTTPS call can
        // take seconds, and a fixed 10 s bound failed with a true 16 s of silence.
        Assert.InRange(silent, TimeSpan.FromSeconds(2), silenceBound + TimeSpan.FromSeconds(1));
        Assert.InRange(renewed, TimeSpan.Zero, renewedBound + TimeSpan.FromSeconds(1));
    }

    /// <summary>Writes the key under a fresh 20 s lease, as Patroni's etcd3 module does when it takes the leader key.</summary>
    private async Task<long> TakeKeyAsync(string key, string holder)
    {
        using var grant = await http.PostAsJsonAsync(new Uri(etcdUrl, "/v3/lease/grant"), new LeaseGrantRequest(20));
        grant.EnsureSuccessStatusCode();
        var lease = (await grant.Content.ReadFromJsonAsync<LeaseGrant>())!.ID;
        using var put = await http.PostAsJsonAsync(new Uri(etcdUrl, "/v3/kv/put"), new { key = Base64(key), value = Base64(holder), lease });
        put.EnsureSuccessStatusCode();
        return long.Parse(lease, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private sealed record LeaseGrant(string ID);

    // etcd's gateway matches field names exactly: "TTL" and "ID", not the camelCase a default serializer writes.
    private sealed record LeaseGrantRequest([property: System.Text.Json.Serialization.JsonPropertyName("TTL")] int Ttl);

    private sealed record LeaseId([property: System.Text.Json.Serialization.JsonPropertyName("ID")] string Id);
}
