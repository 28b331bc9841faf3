using IshChat.Tests.EndToEnd;

namespace IshChat.Tests.Monitoring;

internal static class AppHostClusterFixtureMonitoringExtensions
{
    public static PrometheusApi PrometheusApi(this AppHostClusterFixture fixture) =>
        new(fixture.App.GetEndpoint(ResourceNames.Prometheus, "http"), fixture.App.GetEndpoint(ResourceNames.Alertmanager, "http"));
}
