using System.Net.Http.Json;
using System.Text.Json;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Cluster.Tls;
using IshChat.Tests.Infrastructure;
using IshChat.Tests.Api;
using Npgsql;
using StackExchange.Redis;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// TLS on the database path of the AppHost's cluster, hop by hop (docs/security.md, the hop table): a plaintext client
/// is refused, a client that verifies the server against the cluster CA gets in, and one that trusts another CA is
/// refused, so the verification is real.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class TlsTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task TheConnectionStringsTheAppHostHandsOutVerifyTheServerAgainstTheClusterCa()
    {
        // Given the connection strings the API and the migrations get
        foreach (var name in new[] { ResourceNames.ChatDatabase, ResourceNames.ChatDatabaseReadOnly, ResourceNames.ChatDatabaseAdmin, ResourceNames.ChatDatabaseMigrator })
        {
            var connectionString = new NpgsqlConnectionStringBuilder(await fixture.ConnectionStringAsync(name));

            // Then each asks for verified TLS against the cluster CA's certificate, and works
            Assert.Equal(SslMode.VerifyFull, connectionString.SslMode);
            Assert.Equal(await fixture.CertificateAuthorityFileAsync(), connectionString.RootCertificate);
            Assert.Equal(
                (await File.ReadAllTextAsync(connectionString.RootCertificate!)).Trim(),
                (await fixture.Cluster.CertificateAuthority.GetAsync(default)).CertificatePem.Trim());
            Assert.True(await IsEncryptedAsync(connectionString.ConnectionString), $"{name}: the server saw a session without TLS");
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task PgBouncerRefusesPlaintextAndAClientTrustingAnotherCaAndServesAVerifiedOne()
    {
        // Given PgBouncer's endpoint as the app role
        var verified = await fixture.PgBouncerConnectionStringAsync(ClusterRoles.App, PgBouncerDatabases.ReadWrite);

        // Then plaintext and a foreign CA are refused, and a verified session reaches PostgreSQL over TLS too (PgBouncer → HAProxy → node)
        await AssertRefusedInPlaintextAsync(verified);
        await AssertRefusedWithAnotherCaAsync(verified);
        Assert.True(await IsEncryptedAsync(verified), "PgBouncer's server connection to PostgreSQL is not TLS");
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task HAProxysPortsPassOnlyVerifiedTlsToTheNodes()
    {
        // Given HAProxy's read-write and read-only ports, straight (no PgBouncer)
        var haproxy = fixture.App.GetEndpoint(ResourceNames.Instance(ResourceNames.HAProxy, 0), HAProxyInstanceResource.ReadWriteEndpointName);
        var readOnly = fixture.App.GetEndpoint(ResourceNames.Instance(ResourceNames.HAProxy, 0), HAProxyInstanceResource.ReadOnlyEndpointName);
        foreach (var endpoint in new[] { haproxy, readOnly })
        {
            var verified = await ConnectionStringAsync(endpoint, ClusterRoles.Monitor, "postgres");

            // Then the node behind refuses plaintext and a foreign CA, and serves a client that verifies its certificate for the name dialled
            await AssertRefusedInPlaintextAsync(verified);
            await AssertRefusedWithAnotherCaAsync(verified);
            Assert.True(await IsEncryptedAsync(verified));
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task EveryNodeRefusesPlaintextEvenToTheSuperuserAndServesVerifiedTls()
    {
        foreach (var node in fixture.Cluster.ServingNodes)
        {
            // Given a node's own PostgreSQL port
            var verified = await fixture.SuperuserConnectionStringAsync(node.Name);

            // Then plaintext is refused by pg_hba (hostssl only), a verified session works
            await AssertRefusedInPlaintextAsync(verified);
            await AssertRefusedWithAnotherCaAsync(verified);
            Assert.True(await IsEncryptedAsync(verified), $"{node.Name} served a session without TLS");
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ReplicationAndEveryOtherTcpSessionRunOverTlsWithAVerifiedServer()
    {
        // Given the leader and its replicas
        var state = await fixture.PatroniClusterAsync(default);
        var leader = state.Leader?.Name ?? throw new InvalidOperationException("No leader");

        // Then every WAL sender on the leader streams over TLS, one per streaming replica
        await using (var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(leader)))
        {
            await connection.OpenAsync();
            await using var senders = new NpgsqlCommand(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)", connection);
            await using var reader = await senders.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.True(reader.GetInt64(0) >= state.StreamingReplicas, $"{reader.GetInt64(0)} TLS WAL senders for {state.StreamingReplicas} streaming replicas");
            Assert.Equal(0, reader.GetInt64(1));
        }

        foreach (var node in fixture.Cluster.ServingNodes)
        {
            await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node.Name));
            await connection.OpenAsync();
            // And no TCP session anywhere (PgBouncer's, the exporter's, a replica's, pg_rewind's) is in plaintext
            await using var plaintext = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL AND NOT s.ssl", connection);
            Assert.Equal(0L, (long)(await plaintext.ExecuteScalarAsync())!);
            // And a replica verifies the server it streams from (Patroni's replication sslmode)
            await using var conninfo = new NpgsqlCommand("SELECT current_setting('primary_conninfo')", connection);
            var primaryConninfo = (string)(await conninfo.ExecuteScalarAsync())!;
            if (node.Name != leader)
            {
                Assert.Contains("sslmode=verify-full", primaryConninfo, StringComparison.Ordinal);
                Assert.Contains($"sslrootcert={TlsFiles.PathOf(TlsFiles.CertificateAuthority)}", primaryConninfo, StringComparison.Ordinal);
            }
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task EtcdMembersPatroniAndTheAppHostReachEachOtherOnlyOverTlsWithClientCertificates()
    {
        // Given every etcd member's client port as the AppHost reaches it, and the AppHost's own client (its certificate from the cluster CA)
        var etcd = fixture.Cluster.Etcd;
        using var appHost = etcd.CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(10));
        var authority = await etcd.CertificateAuthority.GetAsync(default);
        using var withoutCertificate = new HttpClient(ClusterHttp.CreateHandler(authority, clientCertificateIssuer: null)) { Timeout = TimeSpan.FromSeconds(10) };
        using var plaintext = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(etcd.Members.Count, etcd.ClientUrls().Count);
        foreach (var member in etcd.ClientUrls())
        {
            // Then the AppHost's client is served, and the membership it reads has only https peer and client URLs
            using var list = await appHost.PostAsJsonAsync(new Uri(member, "/v3/cluster/member/list"), new { });
            list.EnsureSuccessStatusCode();
            var urls = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("members").EnumerateArray()
                .SelectMany(m => m.GetProperty("peerURLs").EnumerateArray().Concat(m.GetProperty("clientURLs").EnumerateArray()))
                .Select(u => u.GetString()!).ToArray();
            Assert.Equal(etcd.Members.Count * 2, urls.Length);
            Assert.All(urls, url => Assert.StartsWith("https://", url, StringComparison.Ordinal));

            // And a TLS client without a certificate, or a plaintext one, gets nothing
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => withoutCertificate.PostAsJsonAsync(new Uri(member, "/v3/kv/range"), new { key = "Lw==", range_end = "AA==" }));
            var plainMember = new UriBuilder(member) { Scheme = Uri.UriSchemeHttp }.Uri;
            var plain = await Record.ExceptionAsync(async () =>
            {
                using var response = await plaintext.PostAsJsonAsync(new Uri(plainMember, "/v3/kv/range"), new { key = "Lw==", range_end = "AA==" });
                Assert.False(response.IsSuccessStatusCode);
            });
            Assert.True(plain is null or HttpRequestException, $"plaintext: {plain}");
        }

        // And Patroni, which reaches etcd with its node certificate, holds the leader key the AppHost reads
        var state = await fixture.PatroniClusterAsync(default);
        var leaderKey = await etcd.LeaderKey(fixture.Cluster.Scope).ReadAsync(etcd.ClientUrls()[0]);
        Assert.Equal(state.Leader?.Name, leaderKey?.Holder);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task PatroniRestServesOnlyHttpsThatVerifiesAgainstTheClusterCaAndHAProxyChecksItSo()
    {
        // Given every serving node's REST API as the AppHost reaches it
        using var verified = fixture.Cluster.CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(10));
        using var stranger = new HttpClient(ClusterHttp.CreateHandler(ClusterCertificateAuthority.Create(TimeSpan.FromHours(1)))) { Timeout = TimeSpan.FromSeconds(10) };
        using var plaintext = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var node in fixture.Cluster.ServingNodes)
        {
            var rest = node.RestUrlIfAllocated ?? throw new InvalidOperationException($"{node.Name} has no REST endpoint");
            Assert.Equal(Uri.UriSchemeHttps, rest.Scheme);

            // Then a client that verifies the node against the cluster CA is served
            using var health = await verified.GetAsync(new Uri(rest, "health"));
            Assert.True(health.IsSuccessStatusCode, $"{node.Name} /health: {(int)health.StatusCode}");

            // And one that trusts another CA gives up at the handshake, and plain HTTP gets no answer from Patroni
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => stranger.GetAsync(new Uri(rest, "health")));
            var plain = await Record.ExceptionAsync(async () =>
            {
                using var response = await plaintext.GetAsync(new UriBuilder(rest) { Scheme = Uri.UriSchemeHttp, Path = "/health" }.Uri);
                Assert.False(response.IsSuccessStatusCode, $"{node.Name} answered plain HTTP");
            });
            Assert.True(plain is null or HttpRequestException, $"plaintext: {plain}");
        }

        // And every HAProxy asks the nodes' REST APIs over TLS, verifying each node's own name with the cluster CA
        foreach (var haproxy in fixture.Cluster.Routers.Select(r => r.Name))
        {
            var config = (await DockerCli.ExecuteAsync(["exec", await fixture.ContainerIdAsync(haproxy), "cat", "/run/haproxy/haproxy.cfg"])).EnsureSucceeded();
            var servers = config.Split('\n').Where(l => l.TrimStart().StartsWith("server ", StringComparison.Ordinal)).ToArray();
            Assert.NotEmpty(servers);
            Assert.All(servers, line =>
            {
                var name = line.Trim().Split(' ')[1];
                Assert.Contains($"check-ssl verify required ca-file {TlsFiles.PathOf(TlsFiles.CertificateAuthority)} check-sni {name} verifyhost {name}", line, StringComparison.Ordinal);
            });
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RedisRefusesPlaintextAndAClientTrustingAnotherCaAndServesTheApiOverVerifiedTls()
    {
        // Given the connection string the API gets, and the CA file the AppHost hands it beside
        var connectionString = await fixture.ConnectionStringAsync(ResourceNames.Redis);
        Assert.Contains(",ssl=true", connectionString, StringComparison.Ordinal);
        var certificateAuthorityFile = await fixture.CertificateAuthorityFileAsync();

        // Then a client that verifies Redis against the cluster CA is served
        await using (var verified = await ConnectRedisAsync(connectionString, RedisTls.TrustOnly(certificateAuthorityFile)))
        {
            Assert.True(verified.IsConnected);
            await verified.GetDatabase().PingAsync();
        }

        // And one that trusts another CA, and a plaintext one, never get a connection
        var stranger = HostTrust.CertificateAuthorityFile(ClusterCertificateAuthority.Create(TimeSpan.FromHours(1)));
        try
        {
            await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectRedisAsync(connectionString, RedisTls.TrustOnly(stranger)));
        }
        finally
        {
            File.Delete(stranger);
        }

        await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectRedisAsync(connectionString.Replace(",ssl=true", "", StringComparison.Ordinal), trust: null));

        // And the API, which has no other way in, writes through its verified connection: a post raises the session's
        // highest acknowledged number in Redis
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        using var posted = await api.PostMessageAsync(instance, session, device, "over TLS");
        await ChatApiClient.EnsureAsync(posted, System.Net.HttpStatusCode.Created);
        await using var reader = await ConnectRedisAsync(connectionString, RedisTls.TrustOnly(certificateAuthorityFile));
        var highest = await Eventually.GetAsync(
            async _ => await reader.GetDatabase().StringGetAsync(IshChat.Api.Caching.CacheKeys.HighestAcknowledgedSeq(instance.InstanceId, session)),
            v => v.HasValue, TimeSpan.FromSeconds(15), "the API's write in Redis");
        Assert.True(highest.HasValue);
    }

    /// <summary>A fresh connection that fails at once if the handshake or the login does (no retries in the background).</summary>
    private static Task<ConnectionMultiplexer> ConnectRedisAsync(string connectionString, System.Net.Security.RemoteCertificateValidationCallback? trust)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 0;
        options.ConnectTimeout = 5000;
        if (trust is not null)
        {
            options.CertificateValidation += trust;
        }

        return ConnectionMultiplexer.ConnectAsync(options);
    }

    private async Task<string> ConnectionStringAsync(Uri endpoint, string role, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = endpoint.Host, Port = endpoint.Port, Database = database, Username = role,
        Password = await fixture.Cluster.Secret(ClusterRoles.PasswordOf(role)).GetValueAsync(default), Pooling = false, Timeout = 5,
    }.VerifyFull(await fixture.CertificateAuthorityFileAsync()).ConnectionString;

    /// <summary>Whether the PostgreSQL backend serving this session sees TLS on its client connection.</summary>
    private static async Task<bool> IsEncryptedAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    private static async Task AssertRefusedInPlaintextAsync(string verified)
    {
        var plaintext = new NpgsqlConnectionStringBuilder(verified) { SslMode = SslMode.Disable, RootCertificate = null, Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(plaintext);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => connection.OpenAsync());
        // PostgreSQL: "no pg_hba.conf entry … no encryption" (28000); PgBouncer: "SSL required" (08P01).
        Assert.True(refused is PostgresException { SqlState: "28000" or "08P01" } || refused.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase),
            $"Plaintext was refused for an unexpected reason: {refused}");
    }

    private static async Task AssertRefusedWithAnotherCaAsync(string verified)
    {
        var stranger = HostTrust.CertificateAuthorityFile(ClusterCertificateAuthority.Create(TimeSpan.FromHours(1)));
        try
        {
            var foreign = new NpgsqlConnectionStringBuilder(verified) { Pooling = false }.VerifyFull(stranger).ConnectionString;
            await using var connection = new NpgsqlConnection(foreign);
            await Assert.ThrowsAnyAsync<Exception>(() => connection.OpenAsync());
        }
        finally
        {
            File.Delete(stranger);
        }
    }
}
