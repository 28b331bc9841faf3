using System.Net;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Api;

/// <summary>What a client without a valid key can make the API do: little, and nothing that reaches the primary twice.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class AbuseLimitTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AFloodWithoutAKeyIsCutTo429WithRetryAfterWhileAKeyedClientCarriesOn()
    {
        // Given the API and an instance with a key
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var instance = await api.CreateInstanceAsync();

        // When 400 requests without a key arrive, 16 at a time (the unkeyed budget is 40 at once, 20 a second, per replica)
        var responses = new List<HttpResponseMessage>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, _) =>
        {
            var response = await api.SendAsync(HttpMethod.Get, "/sessions", apiKey: null);
            lock (responses)
            {
                responses.Add(response);
            }
        });
        using var keyed = await api.SendAsync(HttpMethod.Get, "/devices", instance.ApiKey);

        // Then some are refused with 429, a Retry-After and a ProblemDetails body; the rest are 401; the keyed client is served
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.TooManyRequests, HttpStatusCode.Unauthorized }));
        Assert.All(limited, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));
        Assert.Equal("application/problem+json", limited[0].Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
        responses.ForEach(r => r.Dispose());

        // The next test in the collection may send a request without a key and expect a 401: let the bucket refill.
        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RepeatingAnUnknownKeyCostsThePrimaryAtMostOneLookupPerReplica()
    {
        // Given the primary's count of key lookups so far
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var unknownKey = "ick_" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('/', '_').Replace('+', '-');
        var before = await KeyLookupsOnThePrimaryAsync();

        // When one unknown key is sent 100 times, 8 at a time, over both replicas
        var statuses = new List<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/devices") { Headers = { ConnectionClose = true } };
            request.Headers.Add("X-Api-Key", unknownKey);
            using var response = await api.Http.SendAsync(request, cancellationToken);
            lock (statuses)
            {
                statuses.Add(response.StatusCode);
            }
        });
        var after = await KeyLookupsOnThePrimaryAsync();

        // Then every one is refused, and the primary looked the key up once per replica (a few more if another test ran lookups)
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.InRange(after - before, 1, 6);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ClusterRouteNeedsTheAdminKey()
    {
        // Given the API and an instance's (non-admin) key
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var instance = await api.CreateInstanceAsync();

        // When /cluster/route is asked without a key, with an instance key, and with the admin key
        using var anonymous = await api.SendAsync(HttpMethod.Get, "/cluster/route", apiKey: null);
        using var tenant = await api.SendAsync(HttpMethod.Get, "/cluster/route", instance.ApiKey);
        using var admin = await api.SendAsync(HttpMethod.Get, "/cluster/route", adminKey);

        // Then only the admin learns the cluster's addresses
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK], [anonymous.StatusCode, tenant.StatusCode, admin.StatusCode]);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task MetricsAreServedOnlyOnTheListenerPrometheusScrapes()
    {
        // Given the API's public endpoint (the one clients use)
        var (http, _) = await fixture.ChatApiAsync();

        // When /metrics is asked there
        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));

        // Then it isn't there (Prometheus reads it on the "metrics" listener: ScrapeTargetTests)
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Calls of the key lookup the primary has run (pg_stat_statements, readable by the monitoring role).</summary>
    private async Task<long> KeyLookupsOnThePrimaryAsync()
    {
        await using var connection = new NpgsqlConnection(await fixture.MonitorConnectionStringAsync(PgBouncerDatabases.ReadWrite));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE '%chat.find_instance_by_key(%' AND query NOT LIKE '%pg_stat_statements%'",
            connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
