using System.Net.Http.Json;
using IshChat.Cluster.Tls;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Etcd;

/// <summary>
/// etcd from the cluster's image speaks TLS only and serves only holders of a certificate the cluster CA issued, on its
/// client port (Patroni, the AppHost's fencer) and its peer port (the other members): whoever reaches a port without
/// one can neither read nor rewrite Patroni's leader key, nor join as a member (docs/security.md).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class EtcdTlsTests : IAsyncLifetime
{
    private SingleEtcdMember etcd = null!;

    public async Task InitializeAsync() => etcd = await SingleEtcdMember.StartAsync("tls-test");

    public async Task DisposeAsync() => await etcd.DisposeAsync();

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task TheClientPortServesOnlyClientsWithACertificateFromTheClusterCa()
    {
        // Given a read of the key space, as Patroni and the fencer do it
        Task<HttpResponseMessage> ReadKeys(HttpClient client, Uri port) => client.PostAsJsonAsync(new Uri(port, "/v3/kv/range"), new { key = "Lw==", range_end = "AA==" });

        // Then only the client with the cluster CA's certificate gets an answer
        await AssertServesOnlyTheClusterAsync(etcd.ClientUrl, ReadKeys);
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task ThePeerPortServesOnlyPeersWithACertificateFromTheClusterCa()
    {
        // Given the peer port's member list, what a joining member asks for first. A peer is asked from where it
        // connects: etcd also matches a peer certificate's names against the connecting address, so a peer's own
        // certificate (it names 127.0.0.1) is shown from inside the member's container.
        const string tls = "/etc/ishchat/tls";
        string[] listMembers = ["curl", "-fsS", "--http1.1", "-o", "/dev/null", "--max-time", "5", "--cacert", $"{tls}/ca.crt", "https://127.0.0.1:2380/members"];

        // Then a peer with the cluster CA's certificate gets it, a TLS client without a certificate does not
        Assert.Equal(0L, await etcd.ExecAsync([.. listMembers, "--cert", $"{tls}/server.crt", "--key", $"{tls}/server.key"]));
        Assert.NotEqual(0L, await etcd.ExecAsync(listMembers));

        // And from outside, another CA's certificate and plaintext get nothing
        using var stranger = Client(ClusterHttp.CreateHandler(etcd.Authority, ClusterCertificateAuthority.Create(TimeSpan.FromHours(1))));
        using var plaintext = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.False(await AnswersAsync(() => stranger.GetAsync(new Uri(etcd.PeerUrl, "/members"))), "a peer with another CA's certificate was served");
        Assert.False(await AnswersAsync(() => plaintext.GetAsync(new Uri(etcd.Url(Uri.UriSchemeHttp, ClusterPorts.EtcdPeer), "/members"))), "a plaintext peer was served");
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task ThePlainMetricsPortServesMetricsButNotTheKeys()
    {
        using var anyone = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var metrics = etcd.Url(Uri.UriSchemeHttp, ClusterPorts.EtcdMetrics);

        using var scrape = await anyone.GetAsync(new Uri(metrics, "/metrics"));
        using var keys = await anyone.PostAsJsonAsync(new Uri(metrics, "/v3/kv/range"), new { key = "Lw==", range_end = "AA==" });

        Assert.True(scrape.IsSuccessStatusCode, $"/metrics answered {(int)scrape.StatusCode}");
        Assert.Contains("etcd_server_has_leader", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(keys.IsSuccessStatusCode, "the plain metrics port served the key space");
    }

    private async Task AssertServesOnlyTheClusterAsync(Uri port, Func<HttpClient, Uri, Task<HttpResponseMessage>> request)
    {
        var plaintextPort = new UriBuilder(port) { Scheme = Uri.UriSchemeHttp }.Uri;
        using var member = Client(ClusterHttp.CreateHandler(etcd.Authority));
        using var withoutCertificate = Client(ClusterHttp.CreateHandler(etcd.Authority, clientCertificateIssuer: null));
        using var stranger = Client(ClusterHttp.CreateHandler(etcd.Authority, ClusterCertificateAuthority.Create(TimeSpan.FromHours(1))));
        using var plaintext = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        Assert.True(await AnswersAsync(() => request(member, port)), "a client with the cluster CA's certificate was refused");
        Assert.False(await AnswersAsync(() => request(withoutCertificate, port)), "a TLS client without a certificate was served");
        Assert.False(await AnswersAsync(() => request(stranger, port)), "a client with another CA's certificate was served");
        Assert.False(await AnswersAsync(() => request(plaintext, plaintextPort)), "a plaintext client was served");
    }

    private static HttpClient Client(HttpMessageHandler handler) => new(handler) { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<bool> AnswersAsync(Func<Task<HttpResponseMessage>> request)
    {
        try
        {
            using var response = await request();
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
