using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// Every port the AppHost publishes on this machine listens on the loopback interface only (docs/security.md): nobody
/// on the machine's network reaches PgBouncer, a node's PostgreSQL or Patroni REST, etcd or the dashboards directly.
/// The one exception is the API's metrics listener (<see cref="MetricsListener"/>), which the Prometheus container must
/// reach: it listens on the Docker host's gateway address alone, which the machine's own network does not reach.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class HostPortTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const string MetricsEndpointName = "metrics";

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task EveryPortTheAppHostPublishesListensOnLoopbackOnly()
    {
        // Given every allocated endpoint of every resource, and the TCP listeners the kernel has
        var listeners = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners();
        var endpoints = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithEndpoints>()
            .SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()
                .Where(e => !(r is ProjectResource && e.Name == MetricsEndpointName))
                .Select(e => (Resource: r.Name, e.Name, e.AllocatedEndpoint)))
            .Where(e => e.AllocatedEndpoint is not null)
            .ToArray();
        Assert.NotEmpty(endpoints);

        // And the API's metrics endpoint listens on the Docker host's gateway alone, never on every interface
        var gateway = IPAddress.Parse(await DockerCli.HostGatewayAddressAsync() ?? throw new InvalidOperationException("The engine names no gateway."));
        var metricsEndpoints = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>()
            .SelectMany(p => p.Annotations.OfType<EndpointAnnotation>().Where(e => e.Name == MetricsEndpointName && e.AllocatedEndpoint is not null))
            .ToArray();
        Assert.NotEmpty(metricsEndpoints);
        foreach (var metrics in metricsEndpoints)
        {
            var bound = listeners.Where(l => l.Port == metrics.AllocatedEndpoint!.Port).ToArray();
            output.WriteLine($"metrics endpoint (target host {metrics.TargetHost}) port {metrics.AllocatedEndpoint!.Port}: {string.Join(", ", bound.Select(l => l.ToString()))}");
            Assert.NotEmpty(bound);
            Assert.All(bound, l => Assert.Equal(gateway, l.Address));
        }

        // Then each is bound to loopback addresses only
        foreach (var (resource, name, allocated) in endpoints)
        {
            var bound = listeners.Where(l => l.Port == allocated!.Port).ToArray();
            Assert.All(bound, l => Assert.True(IPAddress.IsLoopback(l.Address), $"{resource}/{name} listens on {l}"));
        }

        // And Docker publishes every container port the AppHost's containers have on 127.0.0.1 only
        foreach (var container in fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ContainerResource>())
        {
            // Spare nodes that never started have no container.
            if (container is PatroniNodeResource { IsSpare: true })
            {
                continue;
            }

            var containerId = await fixture.ContainerIdAsync(container.Name).WaitAsync(TimeSpan.FromSeconds(30));
            var ports = (await DockerCli.ExecuteAsync(["inspect", "-f", "{{json .NetworkSettings.Ports}}", containerId])).EnsureSucceeded();
            var hostIps = JsonDocument.Parse(ports).RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.Array)
                .SelectMany(p => p.Value.EnumerateArray().Select(b => (Port: p.Name, HostIp: b.GetProperty("HostIp").GetString())));
            Assert.All(hostIps, b => Assert.True(b.HostIp is "127.0.0.1" or "::1", $"{container.Name} publishes {b.Port} on '{b.HostIp}'"));
        }
    }
}
