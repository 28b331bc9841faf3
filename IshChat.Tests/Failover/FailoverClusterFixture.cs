using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// One Testcontainers cluster (3 etcd, leader + 3 replicas and a spare slot, HAProxy, PgBouncer; asynchronous
/// replication) shared by the failover scenarios, which run one after another and each leave
/// the cluster healthy again. Disposed, containers and network, even when a test fails.
/// </summary>
public sealed class FailoverClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    public PatroniTestCluster Cluster { get; private set; } = null!;

    public ILogger Logger { get; } = new MessageSinkLoggerProvider(sink).CreateLogger("Failover");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        // One spare node slot, not started: ReplicaMembershipTests adds a replica there and removes it again.
        Cluster = await PatroniTestCluster.StartAsync(new TestClusterOptions { SpareReplicas = 1 }, Logger, timeout.Token);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3), timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>Runs alone (no other collection in parallel): on 2 cores a second cluster would skew every timing.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FailoverClusterCollection : ICollectionFixture<FailoverClusterFixture>
{
    public const string Name = "Failover cluster";
}
