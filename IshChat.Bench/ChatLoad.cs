using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace IshChat.Bench;

/// <summary>Runs the workload and records each operation's latency (after the warm-up).</summary>
public sealed class ChatLoad(HttpClient http, BenchOptions options, string adminKey, string instanceType = InstanceTypes.Standard)
{
    /// <summary>
    /// Clients per instance (API key). A key's rate limit (1,000 requests/s per API replica, docs/security.md) is one
    /// tenant's budget: 16 clients on one key reached it on the single server once reads came from the cache.
    /// </summary>
    public const int ClientsPerInstance = 8;

    public async Task<BenchResults> RunAsync(params IMeasurementWindow[] windows)
    {
        // At most ClientsPerInstance clients share an instance (its API key), so the bench measures the API, not the limiter.
        var apiKeys = await Task.WhenAll(Enumerable.Range(0, (options.Clients + ClientsPerInstance - 1) / ClientsPerInstance).Select(_ => CreateInstanceAsync()));
        var clients = await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(i => StartClientAsync(apiKeys[i / ClientsPerInstance])));
        var results = new BenchResults();
        var measuring = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(options.Warmup + options.Duration);
        var warmupEnds = options.Warmup;
        var windowsStarted = Task.Delay(warmupEnds).ContinueWith(_ => Array.ForEach(windows, w => w.Start()), TaskScheduler.Default);
        await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var recording = measuring.Elapsed >= warmupEnds;
                var started = Stopwatch.GetTimestamp();
                string? token;
                try
                {
                    token = await client.PostAsync($"bench message {n++}");
                    if (recording)
                    {
                        results.Record("post", Stopwatch.GetElapsedTime(started));
                    }

                    started = Stopwatch.GetTimestamp();
                    var route = await client.ReadLatestAsync(token);
                    if (recording)
                    {
                        results.Record("read", Stopwatch.GetElapsedTime(started));
                        results.CountReadRoute(route);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // A request cut off by the end of the run is no error.
                    if (recording && !stop.IsCancellationRequested)
                    {
                        results.Error(ex.Message);
                    }
                }
            }
        })));
        results.Elapsed = options.Duration;
        await windowsStarted;
        foreach (var window in windows)
        {
            results.Measured.Add(await window.StopAsync(results.Requests));
        }

        return results;
    }

    private async Task<string> CreateInstanceAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/instances")
        {
            Content = JsonContent.Create(new { name = $"bench {DateTime.UtcNow:HHmmss}", type = instanceType }),
        };
        request.Headers.Add("X-Api-Key", adminKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
    }

    private async Task<BenchClient> StartClientAsync(string apiKey)
    {
        var device = await SendAsync(apiKey, HttpMethod.Post, "/devices", new { name = "bench device" });
        var session = await SendAsync(apiKey, HttpMethod.Post, "/sessions", new { deviceId = device.GetProperty("deviceId").GetGuid() });
        return new BenchClient(http, apiKey, device.GetProperty("deviceId").GetGuid(), session.GetProperty("sessionId").GetGuid());
    }

    private async Task<JsonElement> SendAsync(string apiKey, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

/// <summary>One simulated chat participant: its device and session.</summary>
public sealed class BenchClient(HttpClient http, string apiKey, Guid deviceId, Guid sessionId)
{
    public async Task<string?> PostAsync(string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{sessionId}/messages")
        {
            Content = JsonContent.Create(new { clientMessageId = Guid.NewGuid(), senderDeviceId = deviceId, text }),
        };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return response.Headers.TryGetValues("X-Consistency-Token", out var values) ? values.Single() : null;
    }

    /// <summary>Reads the newest page; returns where the API says the read ran (X-Read-Route: replica or primary).</summary>
    public async Task<string> ReadLatestAsync(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/sessions/{sessionId}/messages");
        request.Headers.Add("X-Api-Key", apiKey);
        if (token is not null)
        {
            request.Headers.Add("X-Consistency-Token", token);
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();
        return response.Headers.TryGetValues("X-Read-Route", out var routes) ? routes.Single() : "unknown";
    }
}
