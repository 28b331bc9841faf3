using System.Net.Http.Json;
using System.Text.Json;

namespace IshChat.Tests.Monitoring;

/// <summary>The few calls of Prometheus's and Alertmanager's HTTP APIs the monitoring tests make.</summary>
public sealed class PrometheusApi(Uri prometheus, Uri alertmanager) : IDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>An instant query's result: one entry per series, its labels and value.</summary>
    public async Task<IReadOnlyList<Sample>> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(prometheus, $"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        using var response = await http.GetAsync(uri, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (body.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus rejected '{promql}': {body.GetProperty("error").GetString()}");
        }

        var data = body.GetProperty("data");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" => [.. data.GetProperty("result").EnumerateArray().Select(r => new Sample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                r.GetProperty("value")[1].GetString()!))],
            "scalar" => [new Sample(new Dictionary<string, string>(), data.GetProperty("result")[1].GetString()!)],
            var other => throw new InvalidOperationException($"'{promql}' returned a {other}, not an instant vector."),
        };
    }

    /// <summary>Active scrape targets as (job, instance, health, last error).</summary>
    public async Task<IReadOnlyList<ScrapeTarget>> TargetsAsync(CancellationToken cancellationToken = default)
    {
        var body = await http.GetFromJsonAsync<JsonElement>(new Uri(prometheus, "/api/v1/targets?state=active"), cancellationToken);
        return [.. body.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t => new ScrapeTarget(
            t.GetProperty("labels").GetProperty("job").GetString()!,
            t.GetProperty("labels").GetProperty("instance").GetString()!,
            t.GetProperty("health").GetString()!,
            t.GetProperty("lastError").GetString() ?? ""))];
    }

    /// <summary>The alerts Alertmanager holds, by their labels.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> AlertmanagerAlertsAsync(CancellationToken cancellationToken = default)
    {
        var body = await http.GetFromJsonAsync<JsonElement>(new Uri(alertmanager, "/api/v2/alerts?active=true"), cancellationToken);
        return [.. body.EnumerateArray().Select(a => (IReadOnlyDictionary<string, string>)a.GetProperty("labels").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""))];
    }

    public void Dispose() => http.Dispose();

    public sealed record Sample(IReadOnlyDictionary<string, string> Labels, string Value)
    {
        public override string ToString() => $"{{{string.Join(", ", Labels.Select(l => $"{l.Key}={l.Value}"))}}} {Value}";
    }

    public sealed record ScrapeTarget(string Job, string Instance, string Health, string LastError)
    {
        public override string ToString() => $"{Job}/{Instance}: {Health}{(LastError.Length > 0 ? $" ({LastError})" : "")}";
    }
}
