using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// One small Testcontainers cluster with the backup store (1 etcd, leader + 1 synchronous replica, every node archiving to the
/// store) and one full backup taken on the replica, shared by the backup scenarios. Disposed, containers and
/// network, even when a test fails; the store's data lives in its container, so nothing outlives the run.
/// </summary>
public sealed class BackupClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    public PatroniTestCluster Cluster { get; private set; } = null!;

    public ILogger Logger { get; } = new MessageSinkLoggerProvider(sink).CreateLogger("Backup");

    /// <summary>pgBackRest's output for the fixture's full backup, taken on the replica.</summary>
    public string BackupOutput { get; private set; } = "";

    public TimeSpan BackupDuration { get; private set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        // Synchronous: a killed primary's acknowledged commits are on the replica that takes over, so whatever a
        // restore misses is the archive's fault, not replication's.
        Cluster = await PatroniTestCluster.StartAsync(new TestClusterOptions
        {
            EtcdMembers = 1,
            Replicas = 1,
            BackupStore = true,
            Patroni = new PatroniSettings { SynchronousMode = SynchronousMode.On },
        }, Logger, timeout.Token);
        var state = await Cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3), timeout.Token);
        var replica = Cluster.Node(state.Members.First(m => m.IsStreamingReplica).Name);
        // The stanza appears once post_bootstrap has run; check also proves archiving works before anything is measured.
        await Eventually.GetAsync(ct => Cluster.CheckArchiveAsync(Cluster.Node(state.Leader!.Name), ct), _ => true, TimeSpan.FromMinutes(2), "pgbackrest check passing on the leader", timeout.Token);
        (BackupDuration, BackupOutput) = await Cluster.BackupAsync(replica, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>Runs alone: a restore next to another cluster on 2 cores would only slow both.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BackupClusterCollection : ICollectionFixture<BackupClusterFixture>
{
    public const string Name = "Backup cluster";
}
