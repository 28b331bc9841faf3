using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace IshChat.Tests.Monitoring;

/// <summary>
/// The alert rules baked into the Prometheus image, checked by promtool against synthetic series
/// (containers/prometheus/tests/ishchat.rules.test.yml and backup.rules.test.yml), inside that same image.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class AlertRuleTests(ITestOutputHelper output)
{
    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task EveryAlertRuleFiresOnItsConditionAndStaysQuietOtherwise()
    {
        // Given the Prometheus image of this checkout (built if missing) and the rules' unit tests
        var layout = RepositoryLayout.Current;
        await new ClusterImageBuilder(layout, NullLogger.Instance).EnsureBuiltAsync([ClusterImages.Prometheus]);
        var context = ClusterImages.Prometheus.ContextDirectory(layout);

        // When promtool runs them (a failing case fails the command, with promtool's report in the message)
        // A few seconds of CPU; minutes of wall time on a machine loaded by other work (seen: load 180 on 2 cores).
        var report = (await DockerCli.ExecuteAsync(
            ["run", "--rm", "--network", "none", "--entrypoint", "promtool",
             "-v", $"{Path.Combine(context, "rules")}:/rules:ro", "-v", $"{Path.Combine(context, "tests")}:/tests:ro",
             "-w", "/tests", ClusterImages.Prometheus.Reference(layout), "test", "rules", "ishchat.rules.test.yml", "backup.rules.test.yml"],
            timeout: TimeSpan.FromMinutes(5))).EnsureSucceeded();

        // Then every case passes
        output.WriteLine(report);
        Assert.Contains("SUCCESS", report);
    }

    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task RulesFileIsValidPrometheusConfiguration()
    {
        var layout = RepositoryLayout.Current;
        await new ClusterImageBuilder(layout, NullLogger.Instance).EnsureBuiltAsync([ClusterImages.Prometheus]);

        var report = await DockerCli.RunAsync(
            ["run", "--rm", "--network", "none", "--entrypoint", "promtool", ClusterImages.Prometheus.Reference(layout),
             "check", "rules", "/etc/prometheus/rules/ishchat.rules.yml"]);

        Assert.Contains("SUCCESS", report);
    }
}
