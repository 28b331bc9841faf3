using IshChat.Cluster.Faults;
using Microsoft.Extensions.Logging.Abstractions;
using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Sessions;
using Microsoft.Extensions.DependencyInjection;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Api;

/// <summary>The Redis-backed query cache: serves repeated reads, forgets what a write changed, steps aside when Redis is down.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class CacheTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task CachedSessionCountersChangeAfterAPostWithoutWaitingForTheCacheToExpire()
    {
        // Given a session whose details have been read until the cache serves them
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        await Eventually.GetAsync(async _ => await GetSessionAsync(api, instance, session), r => r.Route == "cache" && r.Session.MessageCount == 0,
            TimeSpan.FromSeconds(15), "the session served from the cache");

        // When a message is posted
        using var posted = await api.PostMessageAsync(instance, session, device, "count me");
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);

        // Then tokenless reads show the new count within seconds (the memory copy's lifetime), not after the 5-minute expiry
        var after = await Eventually.GetAsync(async _ => await GetSessionAsync(api, instance, session), r => r.Session.MessageCount == 1,
            TimeSpan.FromSeconds(10), "the new message count");
        Assert.Equal(1, after.Session.MessageCount);
        Assert.NotNull(after.Session.LastMessageAt);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task WithRedisStoppedTheApiKeepsServingFromTheDatabase()
    {
        // Given a conversation, then Redis stopped
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        // Paused rather than stopped: a hung Redis is the harder case (timeouts, not refusals), and
        // DCP keeps its container, so unpausing restores it exactly.
        var redis = new FaultTarget(ResourceNames.Redis, await fixture.ContainerIdAsync(ResourceNames.Redis));
        await FaultInjector.InjectAsync(Fault.Pause, redis, NullLogger.Instance);
        try
        {
            // When the client posts and reads (cached reads included) a few times
            var statuses = new List<HttpStatusCode>();
            var lastToken = "";
            for (var i = 0; i < 5; i++)
            {
                using var posted = await api.PostMessageAsync(instance, session, device, $"no cache {i}");
                statuses.Add(posted.StatusCode);
                lastToken = ChatApiClient.TokenOf(posted);
                using var latest = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}/messages", instance.ApiKey, token: ChatApiClient.TokenOf(posted));
                statuses.Add(latest.StatusCode);
                using var details = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}", instance.ApiKey, token: ChatApiClient.TokenOf(posted));
                statuses.Add(details.StatusCode);
            }

            // Then nothing failed, and the reads saw every post
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.Created, $"status {(int)s}"));
            var (page, _) = await api.ListMessagesAsync(instance, session, "?after=0", lastToken);
            Assert.Equal(5, page.Items.Count);
        }
        finally
        {
            await FaultInjector.RepairAsync(Fault.Pause, redis, NullLogger.Instance);
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task NewestMessageIsNeverHiddenFromOtherReadersByACachedPageWhileEveryReplicaLags()
    {
        // Given a conversation whose latest page is served from the cache
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        using (var first = await api.PostMessageAsync(instance, session, device, "first"))
        {
            await ChatApiClient.EnsureAsync(first, HttpStatusCode.Created);
        }

        await Eventually.GetAsync(async _ => await api.ListMessagesAsync(instance, session), r => r.Route == "cache" && r.Page.Items.Count == 1,
            TimeSpan.FromSeconds(15), "the latest page served from the cache");
        await using (var paused = await PausedReplay.StartAsync(fixture))
        {
            // When one participant posts while no replica replays, and another reads the latest page without any token
            using (var second = await api.PostMessageAsync(instance, session, device, "second"))
            {
                await ChatApiClient.EnsureAsync(second, HttpStatusCode.Created);
            }

            var (whileLagging, route) = await api.ListMessagesAsync(instance, session);

            // Then the reader sees the new message, from the page the post stored or from the primary: the replica's older
            // page is neither served nor cached
            Assert.Equal(["second", "first"], whileLagging.Items.Select(m => m.Text));
            Assert.Contains(route, (string[])["cache", "primary"]);

            // When a post's first attempt committed but its response was lost (so nothing invalidated the cache)
            var lostResponse = Guid.NewGuid();
            await CommitAsAFirstAttemptWouldAsync(paused.Leader, instance, session, device, lostResponse, "third");
            var (beforeRetry, beforeRetryRoute) = await api.ListMessagesAsync(instance, session);
            Assert.Equal(("cache", 2), (beforeRetryRoute, beforeRetry.Items.Count));

            // and the client retries it
            using var retry = await api.PostMessageAsync(instance, session, device, "third", lostResponse);
            await ChatApiClient.EnsureAsync(retry, HttpStatusCode.OK);

            // Then the retry's 200 invalidated the cached page too
            var (afterRetry, _) = await api.ListMessagesAsync(instance, session);
            Assert.Equal(["third", "second", "first"], afterRetry.Items.Select(m => m.Text));
        }

        // And once replay resumes, token-less readers keep seeing all three (nothing older was stored meanwhile)
        for (var read = 0; read < 5; read++)
        {
            var (page, _) = await api.ListMessagesAsync(instance, session);
            Assert.Equal(3, page.Items.Count);
        }
    }

    private static async Task<(SessionResponse Session, string Route)> GetSessionAsync(ChatApiClient api, TestInstance instance, Guid session)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}", instance.ApiKey);
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.OK);
        return ((await response.Content.ReadFromJsonAsync<SessionResponse>())!, ChatApiClient.RouteOf(response));
    }

    /// <summary>What the API's post transaction does (straight on the leader, as the superuser), without the API's cache invalidation after it.</summary>
    private async Task CommitAsAFirstAttemptWouldAsync(string leader, TestInstance instance, Guid session, Guid device, Guid clientMessageId, string text)
    {
        await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(leader));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH numbered AS (
                UPDATE chat.sessions SET message_count = message_count + 1, last_message_at = now()
                 WHERE instance_id = $1 AND session_id = $2
             RETURNING message_count)
            INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at)
            SELECT $1, $2, message_count, $3, $4, $5, now() FROM numbered
            """, connection)
        {
            Parameters = { new() { Value = instance.InstanceId }, new() { Value = session }, new() { Value = clientMessageId }, new() { Value = device }, new() { Value = text } },
        };
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
