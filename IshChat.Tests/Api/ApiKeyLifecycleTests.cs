using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Instances;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Api;

/// <summary>API keys that can be revoked and expire, refused on every API replica within seconds.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ApiKeyLifecycleTests(AppHostClusterFixture fixture)
{
    /// <summary>Generous: the broadcast takes milliseconds; this is the machine being loaded, not the bound.</summary>
    private static readonly TimeSpan refusedWithin = TimeSpan.FromSeconds(20);

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ARevokedKeyIsRefusedByBothApiReplicasWhileTheInstancesOtherKeyStillWorks()
    {
        // Given an instance with two keys, both used (so both replicas remember them)
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var instance = await api.CreateInstanceAsync();
        var second = await IssueAsync(api, instance.InstanceId, expiresAt: null);
        await WarmBothReplicasAsync(api, instance.ApiKey);
        await WarmBothReplicasAsync(api, second.ApiKey);

        // When the second key is revoked
        using var revoke = await api.SendAsync(HttpMethod.Delete, $"/admin/instances/{instance.InstanceId}/api-keys/{second.KeyId}", adminKey);
        await ChatApiClient.EnsureAsync(revoke, HttpStatusCode.NoContent);

        // Then within seconds every request with it is refused, on fresh connections (either replica)
        var refusedAfter = await UntilEveryRequestIsAsync(api, second.ApiKey, HttpStatusCode.Unauthorized);
        Assert.True(refusedAfter < refusedWithin, $"Still accepted {refusedAfter.TotalSeconds:F1} s after the revocation");

        // And the first key still works, revoking again is harmless, and an unknown key id is 404
        await WarmBothReplicasAsync(api, instance.ApiKey);
        using var again = await api.SendAsync(HttpMethod.Delete, $"/admin/instances/{instance.InstanceId}/api-keys/{second.KeyId}", adminKey);
        using var unknown = await api.SendAsync(HttpMethod.Delete, $"/admin/instances/{instance.InstanceId}/api-keys/{Guid.NewGuid()}", adminKey);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AKeyStopsWorkingAtItsExpiry()
    {
        // Given a key that expires in 8 seconds, used right away
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var instance = await api.CreateInstanceAsync();
        var expiring = await IssueAsync(api, instance.InstanceId, DateTimeOffset.UtcNow.AddSeconds(8));
        await WarmBothReplicasAsync(api, expiring.ApiKey);

        // When its expiry passes
        await Task.Delay(expiring.ExpiresAt!.Value - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));

        // Then it is refused at once (a replica never remembers a key past its expiry)
        var refusedAfter = await UntilEveryRequestIsAsync(api, expiring.ApiKey, HttpStatusCode.Unauthorized);
        Assert.True(refusedAfter < TimeSpan.FromSeconds(5), $"Still accepted {refusedAfter.TotalSeconds:F1} s after its expiry");
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AnExpiryInThePastIsABadRequest()
    {
        // Given an instance
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var instance = await api.CreateInstanceAsync();

        // When a key is asked for that would already have expired
        using var response = await api.SendAsync(HttpMethod.Post, $"/admin/instances/{instance.InstanceId}/api-keys", adminKey,
            new IssueApiKeyRequest(DateTimeOffset.UtcNow.AddMinutes(-1)));

        // Then it is refused, naming the field
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("expiresAt", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<IssuedApiKey> IssueAsync(ChatApiClient api, Guid instanceId, DateTimeOffset? expiresAt)
    {
        using var response = await api.SendAsync(HttpMethod.Post, $"/admin/instances/{instanceId}/api-keys", api.AdminApiKey, new IssueApiKeyRequest(expiresAt));
        await ChatApiClient.EnsureAsync(response, HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<IssuedApiKey>())!;
    }

    /// <summary>Enough requests on fresh connections that both replicas (the AppHost's proxy balances connections) see the key.</summary>
    private static async Task WarmBothReplicasAsync(ChatApiClient api, string apiKey)
    {
        for (var i = 0; i < 6; i++)
        {
            using var response = await SendFreshAsync(api, apiKey);
            await ChatApiClient.EnsureAsync(response, HttpStatusCode.OK);
        }
    }

    /// <summary>How long until 6 requests in a row on fresh connections all answer <paramref name="status"/>.</summary>
    private static async Task<TimeSpan> UntilEveryRequestIsAsync(ChatApiClient api, string apiKey, HttpStatusCode status)
    {
        var stopwatch = Stopwatch.StartNew();
        var inARow = 0;
        while (inARow < 6)
        {
            using var response = await SendFreshAsync(api, apiKey);
            inARow = response.StatusCode == status ? inARow + 1 : 0;
            if (stopwatch.Elapsed > TimeSpan.FromMinutes(1))
            {
                break;
            }

            if (inARow == 0)
            {
                await Task.Delay(200);
            }
        }

        return stopwatch.Elapsed;
    }

    private static async Task<HttpResponseMessage> SendFreshAsync(ChatApiClient api, string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/devices") { Headers = { ConnectionClose = true } };
        request.Headers.Add("X-Api-Key", apiKey);
        return await api.Http.SendAsync(request);
    }
}
