using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Data;
using IshChat.Api.Devices;
using IshChat.Api.Instances;
using IshChat.Api.Messages;
using IshChat.Api.Sessions;
using IshChat.Api.Validation;

namespace IshChat.Tests.Api;

/// <summary>An instance created for one test: its id and its API key.</summary>
public sealed record TestInstance(Guid InstanceId, string ApiKey);

/// <summary>The chat API as a client sees it, through the AppHost's balanced endpoint (both replicas).</summary>
public sealed class ChatApiClient(HttpClient http, string adminApiKey)
{
    public HttpClient Http { get; } = http;

    public async Task<TestInstance> CreateInstanceAsync(string type = "standard")
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/instances", adminApiKey, new CreateInstanceRequest($"test {Guid.NewGuid():N}"[..20], type));
        await EnsureAsync(response, HttpStatusCode.Created);
        var created = (await response.Content.ReadFromJsonAsync<CreatedInstanceResponse>())!;
        return new TestInstance(created.Instance.InstanceId, created.ApiKey);
    }

    public async Task<Guid> RegisterDeviceAsync(TestInstance instance, string name = "phone")
    {
        using var response = await SendAsync(HttpMethod.Post, "/devices", instance.ApiKey, new RegisterDeviceRequest(name));
        await EnsureAsync(response, HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<DeviceResponse>())!.DeviceId;
    }

    public async Task<Guid> StartSessionAsync(TestInstance instance, Guid deviceId) =>
        (await StartSessionWithTokenAsync(instance, deviceId)).SessionId;

    /// <summary>A new session and the consistency token of its creation, which a client that reads it next must send.</summary>
    public async Task<(Guid SessionId, string Token)> StartSessionWithTokenAsync(TestInstance instance, Guid deviceId)
    {
        using var response = await SendAsync(HttpMethod.Post, "/sessions", instance.ApiKey, new StartSessionRequest(deviceId));
        await EnsureAsync(response, HttpStatusCode.Created);
        return ((await response.Content.ReadFromJsonAsync<SessionResponse>())!.SessionId, TokenOf(response));
    }

    /// <summary>A fresh instance with one device and one active session.</summary>
    public async Task<(TestInstance Instance, Guid DeviceId, Guid SessionId)> CreateConversationAsync()
    {
        var instance = await CreateInstanceAsync();
        var device = await RegisterDeviceAsync(instance);
        return (instance, device, await StartSessionAsync(instance, device));
    }

    public Task<HttpResponseMessage> PostMessageAsync(TestInstance instance, Guid sessionId, Guid deviceId, string text, Guid? clientMessageId = null) =>
        SendAsync(HttpMethod.Post, $"/sessions/{sessionId}/messages", instance.ApiKey, new PostMessageRequest(clientMessageId ?? Guid.NewGuid(), deviceId, text));

    public async Task<(MessagePage Page, string Route)> ListMessagesAsync(TestInstance instance, Guid sessionId, string query = "", string? token = null)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/sessions/{sessionId}/messages{query}", instance.ApiKey, token: token);
        await EnsureAsync(response, HttpStatusCode.OK);
        return ((await response.Content.ReadFromJsonAsync<MessagePage>())!, RouteOf(response));
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? apiKey, object? body = null, string? token = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyKey.HeaderName, idempotencyKey);
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        if (token is not null)
        {
            request.Headers.Add(ConsistencyToken.HeaderName, token);
        }

        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body, body.GetType());
        }

        return await Http.SendAsync(request);
    }

    public string AdminApiKey => adminApiKey;

    public static string TokenOf(HttpResponseMessage response) => response.Headers.GetValues(ConsistencyToken.HeaderName).Single();

    public static string RouteOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Read-Route", out var values) ? values.Single() : "";

    public static async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new Xunit.Sdk.XunitException($"Expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
