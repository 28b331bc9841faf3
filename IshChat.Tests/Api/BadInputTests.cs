using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Api;

/// <summary>Client mistakes get a 4xx with ProblemDetails naming what was wrong, never a 500.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class BadInputTests(AppHostClusterFixture fixture)
{
    public static TheoryData<string, string> BadMessageBodies => new()
    {
        { """{"clientMessageId":"{id}","senderDeviceId":"{device}","text":""}""", "text" },
        { """{"clientMessageId":"{id}","senderDeviceId":"{device}","text":"   "}""", "text" },
        { """{"clientMessageId":"{id}","senderDeviceId":"{device}"}""", "text" },
        { """{"clientMessageId":"{id}","senderDeviceId":"{device}","text":"nul\u0000inside"}""", "text" },
        { "{\"clientMessageId\":\"{id}\",\"senderDeviceId\":\"{device}\",\"text\":\"" + new string('x', 4001) + "\"}", "text" },
        { """{"senderDeviceId":"{device}","text":"no id"}""", "clientMessageId" },
        { """{"clientMessageId":"00000000-0000-0000-0000-000000000000","senderDeviceId":"{device}","text":"empty id"}""", "clientMessageId" },
        { """{"clientMessageId":"{id}","text":"no sender"}""", "senderDeviceId" },
    };

    [Theory(Timeout = TestTimeouts.Integration)]
    [MemberData(nameof(BadMessageBodies))]
    public async Task InvalidMessageFieldIsA400NamingTheField(string body, string field)
    {
        // Given a conversation
        var (api, instance, device, session) = await ConversationAsync();

        // When a message with a bad field is posted
        var json = body.Replace("{id}", Guid.NewGuid().ToString()).Replace("{device}", device.ToString());
        using var response = await api.SendAsync(HttpMethod.Post, $"/sessions/{session}/messages", instance.ApiKey, new StringContent(json, Encoding.UTF8, "application/json"));

        // Then it is a 400 whose ProblemDetails names that field
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(field, (await ErrorsAsync(response)).Keys);
    }

    [Theory(Timeout = TestTimeouts.Integration)]
    [InlineData("/sessions/not-a-uuid/messages", "sessionId")]
    [InlineData("/sessions/{session}/messages?before=abc", "before")]
    [InlineData("/sessions/{session}/messages?after=-1", "after")]
    [InlineData("/sessions/{session}/messages?after=1&before=5", "before")]
    [InlineData("/sessions/{session}/messages?limit=0", "limit")]
    [InlineData("/sessions/{session}/messages?limit=1000", "limit")]
    [InlineData("/devices/12345", "deviceId")]
    [InlineData("/sessions?before=zz", "before")]
    public async Task MalformedIdOrCursorIsA400NamingIt(string path, string field)
    {
        // Given a conversation
        var (api, instance, _, session) = await ConversationAsync();

        // When a read names a malformed id or cursor
        using var response = await api.SendAsync(HttpMethod.Get, path.Replace("{session}", session.ToString()), instance.ApiKey);

        // Then it is a 400 naming it
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(field, (await ErrorsAsync(response)).Keys);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task MalformedConsistencyTokenIsA400()
    {
        // Given a conversation
        var (api, instance, _, session) = await ConversationAsync();

        // When a read presents a token that is not a WAL position
        using var response = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}", instance.ApiKey, token: "0/XYZ'; DROP TABLE chat.messages; --");

        // Then it is a 400 naming the header
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("X-Consistency-Token", (await ErrorsAsync(response)).Keys);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task UnknownIdsAre404()
    {
        // Given a conversation
        var (api, instance, device, session) = await ConversationAsync();
        var unknown = Guid.CreateVersion7();

        // When ids that exist nowhere are used
        using var getSession = await api.SendAsync(HttpMethod.Get, $"/sessions/{unknown}", instance.ApiKey);
        using var listMessages = await api.SendAsync(HttpMethod.Get, $"/sessions/{unknown}/messages", instance.ApiKey);
        using var postToUnknownSession = await api.PostMessageAsync(instance, unknown, device, "hello");
        using var postFromUnknownDevice = await api.PostMessageAsync(instance, session, unknown, "hello");
        using var startForUnknownDevice = await api.SendAsync(HttpMethod.Post, "/sessions", instance.ApiKey, new { deviceId = unknown });

        // Then each is a 404
        Assert.All([getSession, listMessages, postToUnknownSession, postFromUnknownDevice, startForUnknownDevice],
            r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task OversizeBodyIs413AndBrokenBodiesAre400()
    {
        // Given a conversation
        var (api, instance, _, session) = await ConversationAsync();
        var path = $"/sessions/{session}/messages";

        // When the body is too large, not UTF-8, not JSON, absent, or holds an unpaired surrogate
        using var oversize = await api.SendAsync(HttpMethod.Post, path, instance.ApiKey,
            new StringContent($"{{\"text\":\"{new string('x', 70_000)}\"}}", Encoding.UTF8, "application/json"));
        var invalidUtf8 = new ByteArrayContent([.. "{\"text\":\""u8.ToArray(), 0xC3, 0x28, 0xFF, .. "\"}"u8.ToArray()]);
        invalidUtf8.Headers.ContentType = new("application/json");
        using var notUtf8 = await api.SendAsync(HttpMethod.Post, path, instance.ApiKey, invalidUtf8);
        using var notJson = await api.SendAsync(HttpMethod.Post, path, instance.ApiKey, new StringContent("{\"text\": ", Encoding.UTF8, "application/json"));
        using var empty = await api.SendAsync(HttpMethod.Post, path, instance.ApiKey, new StringContent("", Encoding.UTF8, "application/json"));
        // The JSON escape of an unpaired surrogate: the JSON reader itself refuses it (it has no UTF-8 form).
        using var loneSurrogate = await api.SendAsync(HttpMethod.Post, path, instance.ApiKey, new StringContent(
            $$"""{"clientMessageId":"{{Guid.NewGuid()}}","senderDeviceId":"{{Guid.NewGuid()}}","text":"lone {{"\\"}}ud800"}""", Encoding.UTF8, "application/json"));

        // Then 413 and 400s with ProblemDetails, none a 500
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notUtf8.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, loneSurrogate.StatusCode);
        Assert.Equal("application/problem+json", notUtf8.Content.Headers.ContentType?.MediaType);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task PostingToAnEndedSessionIsAConflict()
    {
        // Given an ended session
        var (api, instance, device, session) = await ConversationAsync();
        using var ended = await api.SendAsync(HttpMethod.Post, $"/sessions/{session}/end", instance.ApiKey);
        await ChatApiClient.EnsureAsync(ended, HttpStatusCode.OK);

        // When a message is posted to it
        using var posted = await api.PostMessageAsync(instance, session, device, "too late");

        // Then it is refused as a conflict
        Assert.Equal(HttpStatusCode.Conflict, posted.StatusCode);
    }

    private async Task<(ChatApiClient Api, TestInstance Instance, Guid Device, Guid Session)> ConversationAsync()
    {
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        return (api, instance, device, session);
    }

    private static async Task<Dictionary<string, JsonElement>> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
    }
}
