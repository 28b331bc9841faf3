using IshChat.Cluster.Faults;
using Microsoft.Extensions.Logging.Abstractions;
using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Sessions;
using Microsoft.Extensions.DependencyInjection;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;

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

    private static async Task<(SessionResponse Session, string Route)> GetSessionAsync(ChatApiClient api, TestInstance instance, Guid session)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}", instance.ApiKey);
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.OK);
        return ((await response.Content.ReadFromJsonAsync<SessionResponse>())!, ChatApiClient.RouteOf(response));
    }
}
