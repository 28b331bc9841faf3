using IshChat.Cluster.Faults;
using IshChat.Cluster.Healing;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>Nothing stays dead: every container the runtime loses is started again without a hand.</summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class SelfHealingTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task EveryKilledContainerComesBackHealthyWithoutAHand()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);
        var restartsBefore = cluster.SelfHealingRestarts;
        TestClusterNode[] victims =
        [
            cluster.Etcd[0],
            cluster.Node(before.Members.First(m => m.IsStreamingReplica).Name),
            cluster.Node(before.Leader!.Name),
            cluster.HAProxy,
            cluster.PgBouncer,
        ];

        foreach (var victim in victims)
        {
            // When it is SIGKILLed and nobody repairs it
            await cluster.InjectAsync(Fault.Kill, victim);

            // Then it runs again, and the cluster is healthy and writable
            await Eventually.GetAsync(async ct => !await DockerCli.IsConfirmedDeadAsync(victim.ContainerId, ct), running => running,
                TimeSpan.FromSeconds(60), $"{victim} running again");
            await victim.RefreshHostPortsAsync();
            var healed = await cluster.WaitForHealthyAsync(settle);
            var writable = await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));
            output.WriteLine($"{victim} killed: back and healthy (leader {healed.Leader!.Name}), writes after {writable.TotalSeconds:F1} s");
        }

        Assert.True(cluster.SelfHealingRestarts - restartsBefore >= victims.Length,
            $"{cluster.SelfHealingRestarts - restartsBefore} restarts for {victims.Length} kills");
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AContainerStoppedOnPurposeStaysStopped()
    {
        // Given a healthy cluster and one of its replicas
        var cluster = fixture.Cluster;
        var before = await cluster.WaitForHealthyAsync(settle);
        var replica = cluster.Node(before.Members.First(m => m.IsStreamingReplica).Name);
        var restartsBefore = cluster.SelfHealingRestarts;

        // When it is stopped as an operator (or the AppHost shutting down) stops it: Docker reports `stop` before `die`
        await DockerCli.RunAsync(["stop", "--time", "30", replica.ContainerId]);
        try
        {
            // Then it stays stopped well past the supervisor's back-off, and nothing was restarted
            await Task.Delay(ContainerSupervisor.FirstBackOff * 8);
            Assert.True(await DockerCli.IsConfirmedDeadAsync(replica.ContainerId), $"{replica} was started again after a stop asked for");
            Assert.Equal(restartsBefore, cluster.SelfHealingRestarts);
        }
        finally
        {
            // and started by hand it rejoins
            await DockerCli.StartAsync(replica.ContainerId);
            await replica.RefreshHostPortsAsync();
            var healed = await cluster.WaitForHealthyAsync(settle);
            output.WriteLine($"{replica} stopped on purpose stayed stopped; started by hand, healthy again (leader {healed.Leader!.Name})");
        }
    }
}
