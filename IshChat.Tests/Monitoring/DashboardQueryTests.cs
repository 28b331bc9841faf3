using System.Text.Json;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Monitoring;

/// <summary>
/// Every panel of the provisioned Grafana dashboards (containers/grafana/dashboards) shows data: each
/// query is evaluated against the AppHost's live Prometheus, whether or not Grafana itself runs here.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class DashboardQueryTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> Dashboards() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepositoryLayout.Current.ContainersDirectory, "grafana", "dashboards"), "*.json").Select(f => Path.GetFileName(f)!).Order()];

    [Theory(Timeout = TestTimeouts.Integration)]
    [MemberData(nameof(Dashboards))]
    public async Task EveryPanelQueryOfTheDashboardReturnsDataFromTheLivePrometheus(string dashboard)
    {
        // Given the dashboard's panel queries
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryLayout.Current.ContainersDirectory, "grafana", "dashboards", dashboard)));
        var queries = document.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: t.GetProperty("expr").GetString()!)))
            .ToList();
        Assert.NotEmpty(queries);
        using var prometheus = fixture.PrometheusApi();

        // When each is evaluated (rates need two scrapes; the backup and drill panels fill after the first backup and
        // drill), all at once: one wait per panel in turn could add up past the test's time-out and hide which was empty
        var results = await Task.WhenAll(queries.Select(async query =>
        {
            try
            {
                var samples = await Eventually.GetAsync(ct => prometheus.QueryAsync(query.Expr, ct), s => s.Count > 0, TimeSpan.FromMinutes(3), $"data for '{query.Panel}'");
                return (query.Panel, Empty: (string?)null, Series: samples.Count);
            }
            catch (TimeoutException ex)
            {
                return (query.Panel, Empty: $"{query.Panel}: {query.Expr} ({ex.Message})", Series: 0);
            }
        }));
        foreach (var (panel, _, series) in results.Where(r => r.Empty is null))
        {
            output.WriteLine($"{panel}: {series} series");
        }

        var empty = results.Select(r => r.Empty).OfType<string>().ToList();

        // Then none is empty
        Assert.True(empty.Count == 0, $"Panels without data:{Environment.NewLine}{string.Join(Environment.NewLine, empty)}");
    }
}
