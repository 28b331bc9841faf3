using IshChat.Cluster.Faults;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// No single point of failure in front of the database: the AppHost runs two PgBouncers and two HAProxies, the API
/// lists both PgBouncers, each PgBouncer lists both HAProxies. Losing any one of them under load costs no request.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class RoutingTierFailoverTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;

    [Theory(Timeout = TestTimeouts.Failover)]
    [InlineData(ResourceNames.PgBouncer, 0)]
    [InlineData(ResourceNames.HAProxy, 1)]
    public async Task KillingOneRouterUnderLoadCostsNoRequestAndItComesBack(string tier, int index)
    {
        // Given writers posting through both API replicas, and a settled cluster
        await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, TimeSpan.FromMinutes(3), "a settled cluster");
        var (http, adminKey) = await fixture.ChatApiAsync();
        await using var load = await PostingLoad.StartAsync(new ChatApiClient(http, adminKey), Writers);
        await Task.Delay(TimeSpan.FromSeconds(2));

        // When one instance of the tier is SIGKILLed (and healed by the AppHost, nobody else)
        var victim = ResourceNames.Instance(tier, index);
        load.Phase = $"kill {victim}";
        await FaultInjector.InjectAsync(Fault.Kill, new FaultTarget(victim, await fixture.ContainerIdAsync(victim)), NullLogger.Instance);
        await Task.Delay(TimeSpan.FromSeconds(5));
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(tier).WaitAsync(TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();

        // Then no client saw an error, every acknowledged message is stored once, and the tier is whole again
        var check = await load.CheckAsync();
        output.WriteLine($"{victim} killed under load: {check.Summary}");
        Assert.True(load.Acknowledged.Count > 20, $"too few posts to judge ({load.Acknowledged.Count})");
        Assert.Empty(load.Errors);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicated);
        Assert.Equal(0, check.ReusedSequenceNumbers);
        Assert.Equal(0, check.MissedByCursorPolls);
    }
}
