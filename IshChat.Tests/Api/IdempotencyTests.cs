using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Devices;
using IshChat.Api.Instances;
using IshChat.Api.Sessions;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Api;

/// <summary>
/// A client that retries a create after a lost response (same Idempotency-Key) gets the resource its first request
/// made, never a second one; a key reused for a different request, and a client message id reused for other content,
/// are conflicts.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class IdempotencyTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RetriedInstanceCreationReturnsTheSameInstanceAndAWorkingKey()
    {
        var api = await ApiAsync();
        var key = Guid.NewGuid().ToString();
        var request = new CreateInstanceRequest("retried", "standard");

        using var first = await api.SendAsync(HttpMethod.Post, "/admin/instances", api.AdminApiKey, request, idempotencyKey: key);
        using var retry = await api.SendAsync(HttpMethod.Post, "/admin/instances", api.AdminApiKey, request, idempotencyKey: key);
        using var other = await api.SendAsync(HttpMethod.Post, "/admin/instances", api.AdminApiKey, request with { Name = "another" }, idempotencyKey: key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        var created = (await first.Content.ReadFromJsonAsync<CreatedInstanceResponse>())!;
        var again = (await retry.Content.ReadFromJsonAsync<CreatedInstanceResponse>())!;
        Assert.Equal(created.Instance.InstanceId, again.Instance.InstanceId);
        // The retry hands back the key the lost response carried, and it works.
        Assert.Equal(created.ApiKey, again.ApiKey);
        await api.RegisterDeviceAsync(new TestInstance(again.Instance.InstanceId, again.ApiKey));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RetriedDeviceRegistrationAndSessionStartCreateOneEach()
    {
        var api = await ApiAsync();
        var instance = await api.CreateInstanceAsync();
        var deviceKey = Guid.NewGuid().ToString();

        using var device1 = await api.SendAsync(HttpMethod.Post, "/devices", instance.ApiKey, new RegisterDeviceRequest("phone"), idempotencyKey: deviceKey);
        using var device2 = await api.SendAsync(HttpMethod.Post, "/devices", instance.ApiKey, new RegisterDeviceRequest("phone"), idempotencyKey: deviceKey);
        using var device3 = await api.SendAsync(HttpMethod.Post, "/devices", instance.ApiKey, new RegisterDeviceRequest("tablet"), idempotencyKey: deviceKey);
        var deviceId = (await device1.Content.ReadFromJsonAsync<DeviceResponse>())!.DeviceId;
        var sessionKey = Guid.NewGuid().ToString();
        using var session1 = await api.SendAsync(HttpMethod.Post, "/sessions", instance.ApiKey, new StartSessionRequest(deviceId), idempotencyKey: sessionKey);
        using var session2 = await api.SendAsync(HttpMethod.Post, "/sessions", instance.ApiKey, new StartSessionRequest(deviceId), idempotencyKey: sessionKey);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict), (device1.StatusCode, device2.StatusCode, device3.StatusCode));
        Assert.Equal(deviceId, (await device2.Content.ReadFromJsonAsync<DeviceResponse>())!.DeviceId);
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (session1.StatusCode, session2.StatusCode));
        Assert.Equal(
            (await session1.Content.ReadFromJsonAsync<SessionResponse>())!.SessionId,
            (await session2.Content.ReadFromJsonAsync<SessionResponse>())!.SessionId);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ClientMessageIdReusedForOtherTextIsAConflictNotTheOldMessage()
    {
        var api = await ApiAsync();
        var (instance, device, session) = await api.CreateConversationAsync();
        var clientMessageId = Guid.NewGuid();

        using var first = await api.PostMessageAsync(instance, session, device, "hello", clientMessageId);
        using var retry = await api.PostMessageAsync(instance, session, device, "hello", clientMessageId);
        using var reused = await api.PostMessageAsync(instance, session, device, "something else", clientMessageId);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict), (first.StatusCode, retry.StatusCode, reused.StatusCode));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task MalformedIdempotencyKeyIsA400NamingTheHeader()
    {
        var api = await ApiAsync();
        var instance = await api.CreateInstanceAsync();

        using var response = await api.SendAsync(HttpMethod.Post, "/devices", instance.ApiKey, new RegisterDeviceRequest("phone"), idempotencyKey: new string('k', 201));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Idempotency-Key", await response.Content.ReadAsStringAsync());
    }

    private async Task<ChatApiClient> ApiAsync()
    {
        var (http, adminKey) = await fixture.ChatApiAsync();
        return new ChatApiClient(http, adminKey);
    }
}
