using System.Net;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>Read-your-writes across the read/write split, and idempotent posts.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ReadYourWritesTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task OwnMessageIsReadBackWhileEveryReplicaHasItsReplayPaused()
    {
        // Given a conversation, and every streaming replica with its WAL replay paused
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        var state = await Eventually.GetAsync(fixture.PatroniClusterAsync, s => s.Leader is not null && s.Members.Any(m => m.IsStreamingReplica),
            TimeSpan.FromMinutes(2), "a leader and streaming replicas");
        var replicas = state.Members.Where(m => !m.IsLeader).Select(m => m.Name).ToList();
        await WaitForReplicasToCatchUpAsync(replicas);
        // Patroni resumes a paused replay on its next loop; in maintenance mode it leaves PostgreSQL alone.
        var maintenance = await fixture.PatroniMaintenanceModeAsync();
        await SetReplayAsync(replicas, paused: true);
        try
        {
            // When the client posts and reads back, with and without the consistency token it got
            using var posted = await api.PostMessageAsync(instance, session, device, "do not lose me");
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
            var token = ChatApiClient.TokenOf(posted);
            var (withToken, withTokenRoute) = await api.ListMessagesAsync(instance, session, "?limit=10", token);
            var (withoutToken, withoutTokenRoute) = await api.ListMessagesAsync(instance, session, "?limit=10");

            // Then with the token the primary serves it; without, a paused replica shows the lag the token avoids
            output.WriteLine($"token {token}; with token: {withTokenRoute}, without: {withoutTokenRoute}");
            Assert.Equal("do not lose me", Assert.Single(withToken.Items).Text);
            Assert.Equal("primary", withTokenRoute);
            Assert.Equal("replica", withoutTokenRoute);
            Assert.Empty(withoutToken.Items);
        }
        finally
        {
            await SetReplayAsync(replicas, paused: false);
            await maintenance.DisposeAsync();
        }

        // And once replay resumes, a replica serves the token's read
        var (_, route) = await Eventually.GetAsync(async _ => await api.ListMessagesAsync(instance, session, "?limit=10", await LastTokenAsync(api, instance, session, device)),
            r => r.Route == "replica", TimeSpan.FromSeconds(30), "a replica catching up with the token");
        Assert.Equal("replica", route);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RetriedPostsWithOneClientMessageIdStoreOneMessage()
    {
        // Given a conversation and one client message id
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        var clientMessageId = Guid.NewGuid();

        // When the client sends the post eight times, four of them at once (as retries after timeouts would)
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => api.PostMessageAsync(instance, session, device, "only once", clientMessageId)));
        var sequential = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            sequential.Add(await api.PostMessageAsync(instance, session, device, "only once", clientMessageId));
        }

        // Then exactly one post created it, the others returned the same message, and the session holds one message
        var all = concurrent.Concat(sequential).ToList();
        Assert.Single(all, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(all, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"status {(int)r.StatusCode}"));
        var (page, _) = await api.ListMessagesAsync(instance, session, "?limit=10", ChatApiClient.TokenOf(all[^1]));
        Assert.Equal(clientMessageId, Assert.Single(page.Items).ClientMessageId);
        all.ForEach(r => r.Dispose());
    }

    /// <summary>So the session itself is on every replica before replay stops.</summary>
    private async Task WaitForReplicasToCatchUpAsync(IEnumerable<string> nodes)
    {
        await using var primary = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await primary.OpenAsync();
        await using var current = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", primary);
        var lsn = (string)(await current.ExecuteScalarAsync())!;
        foreach (var node in nodes)
        {
            await Eventually.GetAsync(async ct =>
            {
                await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node));
                await connection.OpenAsync(ct);
                await using var replayed = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", connection) { Parameters = { new() { Value = lsn } } };
                return (bool)(await replayed.ExecuteScalarAsync(ct))!;
            }, caughtUp => caughtUp, TimeSpan.FromSeconds(30), $"{node} replaying up to {lsn}");
        }
    }

    private async Task SetReplayAsync(IEnumerable<string> nodes, bool paused)
    {
        foreach (var node in nodes)
        {
            await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(node));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task<string> LastTokenAsync(ChatApiClient api, TestInstance instance, Guid session, Guid device)
    {
        using var response = await api.PostMessageAsync(instance, session, device, "after resume");
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.Created);
        return ChatApiClient.TokenOf(response);
    }
}
