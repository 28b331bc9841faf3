using IshChat.Cluster.Testcontainers;
using IshChat.MigrationService;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Migration;

/// <summary>
/// The smallest real cluster an import can meet (1 etcd, leader + 1 replica, HAProxy) with the
/// chat schema applied by the migration service, and a scratch folder for legacy files.
/// The tool connects as it would in production: ishchat_admin, and ishchat_importer for import's message COPY,
/// through HAProxy's read-write port.
/// </summary>
public sealed class MigrationClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    public PatroniTestCluster Cluster { get; private set; } = null!;

    public ILogger Logger { get; } = new MessageSinkLoggerProvider(sink).CreateLogger("Migration");

    public string Folder { get; } = Directory.CreateTempSubdirectory("ishchat-migration-").FullName;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        Cluster = await PatroniTestCluster.StartAsync(new TestClusterOptions { EtcdMembers = 1, Replicas = 1 }, Logger, timeout.Token);
        await Cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3), timeout.Token);
        if (!await new SchemaMigrator(LeaderConnectionString(ClusterRoles.Migrator), Logger).MigrateAsync(timeout.Token))
        {
            throw new InvalidOperationException("The chat schema could not be applied; see the log above.");
        }
    }

    /// <summary>HAProxy's read-write port: always the current leader, a real session (no PgBouncer).</summary>
    public string LeaderConnectionString(string role = ClusterRoles.App) =>
        new NpgsqlConnectionStringBuilder(Cluster.LeaderConnectionString(role)) { Timeout = 15, CommandTimeout = 30 }.ConnectionString;

    public string NewPath(string name) => Path.Combine(Folder, $"{name}-{Guid.NewGuid():N}.db");

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>One cluster for all migration tests, run one after another (a failover test shares it).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MigrationClusterCollection : ICollectionFixture<MigrationClusterFixture>
{
    public const string Name = "Migration cluster";

    /// <summary>The trait value: <c>dotnet test --filter Category=Migration</c>.</summary>
    public const string Category = "Migration";
}
