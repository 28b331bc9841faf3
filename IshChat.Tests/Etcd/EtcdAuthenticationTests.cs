using System.Net.Http.Json;
using System.Text;
using IshChat.Cluster.Etcd;
using IshChat.Cluster.Tls;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Etcd;

/// <summary>
/// etcd's own authentication as the AppHost and the test cluster set it up (<see cref="EtcdAuthentication"/>): Patroni's
/// user reaches its namespace and nothing else, the host's user reads it and may release a leader key, a certificate
/// from the cluster CA alone opens nothing, and the setup is idempotent, turns authentication on for a member that
/// ran without it (keeping its keys), and takes a changed password (docs/security.md).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class EtcdAuthenticationTests : IAsyncLifetime, IDisposable
{
    private const string Scope = "auth-test";
    private readonly Dictionary<string, string> passwords = new()
    {
        [EtcdAuthentication.RootUser] = Guid.NewGuid().ToString("N"),
        [EtcdAuthentication.PatroniUser] = Guid.NewGuid().ToString("N"),
        [EtcdAuthentication.HostUser] = Guid.NewGuid().ToString("N"),
    };

    private SingleEtcdMember etcd = null!;
    private HttpClient certificateOnly = null!;

    public async Task InitializeAsync()
    {
        etcd = await SingleEtcdMember.StartAsync("auth-test");
        certificateOnly = new HttpClient(ClusterHttp.CreateHandler(etcd.Authority)) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync() => await etcd.DisposeAsync();

    public void Dispose() => certificateOnly?.Dispose();

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task PatronisUserReachesOnlyItsNamespaceAndACertificateAloneOpensNothing()
    {
        // Given a member that ran without authentication and holds a key of Patroni's
        Assert.True(await PutAsync(certificateOnly, $"/service/{Scope}/config", "{}"));

        // When the setup runs, twice (the second finds everything in place)
        await EnsureAsync();
        await EnsureAsync();

        // Then Patroni's user reads the old key, writes in its namespace, and is refused everywhere else
        using var patroni = Client(EtcdAuthentication.PatroniUser, passwords[EtcdAuthentication.PatroniUser]);
        Assert.Equal("{}", await GetAsync(patroni, $"/service/{Scope}/config"));
        Assert.True(await PutAsync(patroni, $"/service/{Scope}/leader", "pg-0"));
        Assert.False(await PutAsync(patroni, "/elsewhere/leader", "pg-0"), "Patroni's user wrote outside its namespace");
        Assert.False(await PutAsync(patroni, "/service0", "x"), "Patroni's user wrote just past its namespace");

        // And the host's user reads the namespace and may write the leader key only
        using var host = Client(EtcdAuthentication.HostUser, passwords[EtcdAuthentication.HostUser]);
        Assert.Equal("pg-0", await GetAsync(host, $"/service/{Scope}/leader"));
        Assert.True(await PutAsync(host, $"/service/{Scope}/leader", "pg-1"));
        Assert.False(await PutAsync(host, $"/service/{Scope}/config", "{\"ttl\":1}"), "the host's user rewrote Patroni's configuration");

        // And a client with the cluster CA's certificate but no login reads and writes nothing
        Assert.Null(await GetAsync(certificateOnly, $"/service/{Scope}/leader"));
        Assert.False(await PutAsync(certificateOnly, $"/service/{Scope}/leader", "intruder"));

        // And over gRPC, where etcd takes a certificate's CN as the user: CN=patroni is Patroni's user, limited the same
        // way, and a certificate whose CN is no user (the member's own, CN=etcd-0) is refused the key space
        var patroniCertificate = etcd.Authority.Issue([EtcdAuthentication.PatroniUser], TimeSpan.FromHours(1));
        Assert.Equal(0L, await etcd.ExecAsync("sh", "-c", $"umask 077; printf '%s' '{patroniCertificate.CertificatePem}' > /tmp/cn.crt; printf '%s' '{patroniCertificate.PrivateKeyPem}' > /tmp/cn.key"));
        Assert.Equal(0L, await EtcdctlAsync("/tmp/cn.crt", "/tmp/cn.key", "put", $"/service/{Scope}/cn", "x"));
        Assert.NotEqual(0L, await EtcdctlAsync("/tmp/cn.crt", "/tmp/cn.key", "put", "/elsewhere/cn", "x"));
        Assert.NotEqual(0L, await EtcdctlAsync("/etc/ishchat/tls/server.crt", "/etc/ishchat/tls/server.key", "get", $"/service/{Scope}/leader"));
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task AChangedPasswordIsTakenOnTheNextSetupAndTheOldOneRefused()
    {
        // Given etcd set up with Patroni's first password
        await EnsureAsync();
        var old = passwords[EtcdAuthentication.PatroniUser];

        // When the secret changes and the setup runs again (the next AppHost start)
        passwords[EtcdAuthentication.PatroniUser] = Guid.NewGuid().ToString("N");
        await EnsureAsync();

        // Then the new password logs in and the old one is refused
        using var renewed = Client(EtcdAuthentication.PatroniUser, passwords[EtcdAuthentication.PatroniUser]);
        Assert.True(await PutAsync(renewed, $"/service/{Scope}/leader", "pg-0"));
        using var stale = Client(EtcdAuthentication.PatroniUser, old);
        await Assert.ThrowsAsync<HttpRequestException>(() => PutAsync(stale, $"/service/{Scope}/leader", "pg-0"));
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task AHostClientThatStartedBeforeAuthenticationWasOnLogsInOnceItIs()
    {
        // Given the host's client, used while etcd has no authentication yet (the AppHost's fencer starts before the setup)
        using var host = Client(EtcdAuthentication.HostUser, passwords[EtcdAuthentication.HostUser]);
        var leaderKey = new EtcdLeaderKey(host, Scope);
        Assert.Null(await leaderKey.ReadAsync(etcd.ClientUrl));

        // When authentication comes on and Patroni's user writes the leader key
        await EnsureAsync();
        using var patroni = Client(EtcdAuthentication.PatroniUser, passwords[EtcdAuthentication.PatroniUser]);
        Assert.True(await PutAsync(patroni, leaderKey.Key, "pg-0"));

        // Then the same host client reads it, logged in now
        Assert.Equal("pg-0", (await leaderKey.ReadAsync(etcd.ClientUrl))?.Holder);
    }

    private Task EnsureAsync() => EtcdAuthentication.EnsureAsync(certificateOnly, etcd.ClientUrl, user => passwords[user], Scope, CancellationToken.None);

    private HttpClient Client(string user, string password) =>
        new(new EtcdTokenHandler(user, _ => Task.FromResult(password)) { InnerHandler = ClusterHttp.CreateHandler(etcd.Authority) }) { Timeout = TimeSpan.FromSeconds(10) };

    private Task<long?> EtcdctlAsync(string certificate, string key, params string[] command) => etcd.ExecAsync(
        ["etcdctl", "--endpoints=https://127.0.0.1:2379", "--cacert=/etc/ishchat/tls/ca.crt", $"--cert={certificate}", $"--key={key}", "--command-timeout=5s", .. command]);

    private async Task<bool> PutAsync(HttpClient client, string key, string value)
    {
        using var response = await client.PostAsJsonAsync(new Uri(etcd.ClientUrl, "/v3/kv/put"), new { key = Base64(key), value = Base64(value) });
        return response.IsSuccessStatusCode;
    }

    /// <summary>The key's value, or null when it is absent or the read is refused.</summary>
    private async Task<string?> GetAsync(HttpClient client, string key)
    {
        using var response = await client.PostAsJsonAsync(new Uri(etcd.ClientUrl, "/v3/kv/range"), new { key = Base64(key) });
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() > 0
            ? Encoding.UTF8.GetString(Convert.FromBase64String(kvs[0].GetProperty("value").GetString()!))
            : null;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
