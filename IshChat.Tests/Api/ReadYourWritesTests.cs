using System.Net;
using System.Net.Http.Json;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
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
        await using (await PausedReplay.StartAsync(fixture))
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

        // And once replay resumes, a replica serves the token's read
        var (_, route) = await Eventually.GetAsync(async _ => await api.ListMessagesAsync(instance, session, "?limit=10", await LastTokenAsync(api, instance, session, device)),
            r => r.Route == "replica", TimeSpan.FromSeconds(30), "a replica catching up with the token");
        Assert.Equal("replica", route);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task NewInstanceIsReadByTheAdminAtOnceWithOrWithoutTheTokenWhileEveryReplicaHasItsReplayPaused()
    {
        // Given every streaming replica with its WAL replay paused
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        await using (await PausedReplay.StartAsync(fixture))
        {
            // When the admin creates an instance and reads it back with the token the creation returned, and without
            using var created = await api.SendAsync(HttpMethod.Post, "/admin/instances", adminKey, new IshChat.Api.Instances.CreateInstanceRequest("read at once", "trial"));
            await ChatApiClient.EnsureAsync(created, HttpStatusCode.Created);
            var id = (await created.Content.ReadFromJsonAsync<IshChat.Api.Instances.CreatedInstanceResponse>())!.Instance.InstanceId;
            using var withToken = await api.SendAsync(HttpMethod.Get, $"/admin/instances/{id}", adminKey, token: ChatApiClient.TokenOf(created));
            using var withoutToken = await api.SendAsync(HttpMethod.Get, $"/admin/instances/{id}", adminKey);

            // Then both find it: the admin API works as its own role on the read-write pool (docs/security.md), so
            // its reads never meet a lagging replica, token or not
            Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
            Assert.Equal(HttpStatusCode.OK, withoutToken.StatusCode);
        }
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

    private static async Task<string> LastTokenAsync(ChatApiClient api, TestInstance instance, Guid session, Guid device)
    {
        using var response = await api.PostMessageAsync(instance, session, device, "after resume");
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.Created);
        return ChatApiClient.TokenOf(response);
    }
}
