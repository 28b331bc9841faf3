using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Cluster;
using IshChat.Api.Devices;
using IshChat.Api.Sessions;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Api;

/// <summary>Instance separation: row-level security through the real PgBouncer, HAProxy and replicas.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class InstanceIsolationTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task InstanceASeesNothingOfInstanceBEvenWithBsIds()
    {
        // Given two instances, B with a device, a session and a message
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var a = await api.CreateInstanceAsync();
        var (b, bDevice, bSession) = await api.CreateConversationAsync();
        using (var posted = await api.PostMessageAsync(b, bSession, bDevice, "B's secret"))
        {
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
        }

        // When A asks for B's things by their ids
        string[] reads = [$"/sessions/{bSession}", $"/sessions/{bSession}/messages", $"/devices/{bDevice}", $"/admin/instances/{b.InstanceId}"];
        var statuses = new List<HttpStatusCode>();
        foreach (var path in reads)
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, a.ApiKey);
            statuses.Add(response.StatusCode);
        }

        using var postIntoB = await api.PostMessageAsync(a, bSession, bDevice, "A writing into B");
        using var endB = await api.SendAsync(HttpMethod.Post, $"/sessions/{bSession}/end", a.ApiKey);
        using var aDevices = await api.SendAsync(HttpMethod.Get, "/devices", a.ApiKey);
        using var aSessions = await api.SendAsync(HttpMethod.Get, "/sessions", a.ApiKey);

        // Then every one is "not found" (A's key is not an admin key either), and A's lists are empty
        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.Unauthorized], statuses);
        Assert.Equal(HttpStatusCode.NotFound, postIntoB.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, endB.StatusCode);
        Assert.Empty((await aDevices.Content.ReadFromJsonAsync<DevicePage>())!.Items);
        Assert.Empty((await aSessions.Content.ReadFromJsonAsync<SessionPage>())!.Items);

        // And B's session is untouched: still active (it takes a post) and holding only B's messages
        using var again = await api.PostMessageAsync(b, bSession, bDevice, "B again");
        await ChatApiClient.EnsureAsync(again, HttpStatusCode.Created);
        var (page, _) = await api.ListMessagesAsync(b, bSession, "?limit=10", ChatApiClient.TokenOf(again));
        Assert.Equal(["B again", "B's secret"], page.Items.Select(m => m.Text));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RequestsWithoutAValidInstanceKeyAreRefused()
    {
        // Given the API
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);

        // When a request has no key, a made-up key, or tries the admin API with no key
        using var none = await api.SendAsync(HttpMethod.Get, "/sessions", apiKey: null);
        using var madeUp = await api.SendAsync(HttpMethod.Get, "/sessions", "ick_" + new string('x', 43));
        using var admin = await api.SendAsync(HttpMethod.Get, "/admin/instances", apiKey: null);

        // Then all are 401 with a ProblemDetails body
        Assert.All([none, madeUp, admin], r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.Equal("application/problem+json", madeUp.Content.Headers.ContentType?.MediaType);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AppRoleOwnsNoTableCannotBypassRowLevelSecurityAndSeesNoRowsUnscoped()
    {
        // Given data in some instance
        var (http, adminKey) = await fixture.ChatApiAsync();
        await new ChatApiClient(http, adminKey).CreateConversationAsync();

        // When the application role queries straight through PgBouncer without an instance scope
        await using var connection = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM chat.sessions),
                   (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user),
                   (SELECT count(*) FROM pg_tables WHERE schemaname = 'chat' AND tableowner = current_user),
                   (SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class
                     WHERE relnamespace = 'chat'::regnamespace AND relkind = 'r' AND relname <> 'schema_versions')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();

        // Then it sees no rows, cannot bypass RLS, owns nothing, and every chat table forces RLS
        Assert.Equal(0L, reader.GetInt64(0));
        Assert.False(reader.GetBoolean(1));
        Assert.Equal(0L, reader.GetInt64(2));
        Assert.True(reader.GetBoolean(3));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task InstanceScopeDoesNotLeakToTheNextTransactionThroughPgBouncer()
    {
        // Given many clients sharing PgBouncer's few server connections, each scoping its transactions
        var connectionString = await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase) + ";Maximum Pool Size=40";
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var leaks = 0;

        // When 32 clients alternate scoped transactions with unscoped statements, 25 times each
        await Parallel.ForEachAsync(Enumerable.Range(0, 32), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (_, ct) =>
        {
            for (var i = 0; i < 25; i++)
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                await using (var transaction = await connection.BeginTransactionAsync(ct))
                {
                    await using var scoped = new NpgsqlCommand("SELECT set_config('ishchat.instance_id', $1, true)", connection) { Parameters = { new() { Value = Guid.NewGuid().ToString() } } };
                    await scoped.ExecuteNonQueryAsync(ct);
                    await transaction.CommitAsync(ct);
                }

                await using var probe = new NpgsqlCommand("SELECT coalesce(current_setting('ishchat.instance_id', true), '')", connection);
                if ((string)(await probe.ExecuteScalarAsync(ct))! != "")
                {
                    Interlocked.Increment(ref leaks);
                }
            }
        });

        // Then no statement ever ran with a scope it did not set itself
        Assert.Equal(0, leaks);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ConcurrentRequestsOfTwoInstancesOnTwoApiReplicasEachSeeOnlyTheirOwnMessages()
    {
        // Given two instances, each with a session, and the API answering from two processes
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var conversations = new[] { await api.CreateConversationAsync(), await api.CreateConversationAsync() };
        var replicas = new HashSet<string>();
        for (var i = 0; i < 20 && replicas.Count < 2; i++)
        {
            // A new connection each time: the AppHost's proxy balances connections, not requests.
            using var request = new HttpRequestMessage(HttpMethod.Get, "/cluster/route") { Headers = { ConnectionClose = true } };
            request.Headers.Add("X-Api-Key", adminKey);
            using var response = await http.SendAsync(request);
            replicas.Add((await response.Content.ReadFromJsonAsync<ClusterApi.RouteResponse>())!.ApiReplica);
        }

        // When both post 20 messages each, 8 at a time, tagged with the instance's name
        var work = conversations.SelectMany((c, index) => Enumerable.Range(0, 20).Select(n => (c, Text: $"instance {index} message {n}")));
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) =>
        {
            using var response = await api.PostMessageAsync(item.c.Instance, item.c.SessionId, item.c.DeviceId, item.Text);
            await ChatApiClient.EnsureAsync(response, HttpStatusCode.Created);
        });

        // Then each instance reads back exactly its own 20 messages, numbered 1..20
        Assert.Equal(2, replicas.Count);
        for (var index = 0; index < 2; index++)
        {
            var (instance, _, session) = conversations[index];
            // (Eventually: without a consistency token a replica may still be replaying the last posts.)
            var page = await Eventually.GetAsync(async _ => (await api.ListMessagesAsync(instance, session, "?after=0&limit=100")).Page,
                p => p.Items.Count >= 20, TimeSpan.FromSeconds(15), "all 20 messages on the replicas");
            Assert.Equal(20, page.Items.Count);
            Assert.All(page.Items, m => Assert.StartsWith($"instance {index} ", m.Text));
            Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), page.Items.Select(m => m.Seq));
        }
    }
}
