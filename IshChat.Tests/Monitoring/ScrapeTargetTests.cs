using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Jobs = IshChat.Cluster.Configuration.MonitoringEnvironment.Jobs;

namespace IshChat.Tests.Monitoring;

/// <summary>Prometheus in the running AppHost sees every component it should, and every one answers.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ScrapeTargetTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    /// <summary>Targets per job in the AppHost as composed: 4 Patroni nodes, 3 etcd members, one of the rest.</summary>
    private static readonly Dictionary<string, int> expectedTargets = new()
    {
        [Jobs.Patroni] = 4,
        [Jobs.Postgres] = 4,
        [Jobs.Etcd] = 3,
        // Two of each router: no single point of failure in front of the database.
        [Jobs.HAProxy] = 2,
        [Jobs.PgBouncer] = 2,
        [Jobs.Redis] = 1,
        [Jobs.Node] = 1,
        // pgbackrest_exporter reading the backup store's repository.
        [Jobs.PgBackRest] = 1,
        [Jobs.Prometheus] = 1,
        [Jobs.Alertmanager] = 1,
    };

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task EveryComponentAndEveryApiReplicaIsScrapedAndUp()
    {
        // Given the AppHost's Prometheus, and as many API replicas as the AppHost runs
        using var api = fixture.PrometheusApi();
        var apiReplicas = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ProjectResource>().Single(p => p.Name == ResourceNames.Api).GetReplicaCount();
        var expected = new Dictionary<string, int>(expectedTargets) { [Jobs.Api] = apiReplicas };

        // When every target has been scraped at least once
        var targets = await Eventually.GetAsync(
            ct => api.TargetsAsync(ct),
            t => expected.All(e => t.Count(x => x.Job == e.Key && x.Health == "up") == e.Value),
            TimeSpan.FromMinutes(2), "every expected target up");

        // Then each job has its targets, all up, and the exporters reach their servers
        output.WriteLine(string.Join(Environment.NewLine, targets.OrderBy(t => t.Job).ThenBy(t => t.Instance)));
        Assert.Equal(expected.Values.Sum(), targets.Count);
        Assert.All(targets, t => Assert.Equal("up", t.Health));
        foreach (var (metric, count) in new[] { ("pg_up", 4), ("pgbouncer_up", 2), ("redis_up", 1), ("patroni_postgres_running", 4), ("etcd_server_has_leader", 3), ("pgbackrest_exporter_status", 1) })
        {
            var samples = await Eventually.GetAsync(ct => api.QueryAsync($"{metric} == 1", ct), s => s.Count == count, TimeSpan.FromSeconds(30), $"{metric} == 1 on {count} targets");
            Assert.Equal(count, samples.Count);
        }
    }
}
