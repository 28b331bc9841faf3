using System.Security.Cryptography;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Microsoft.Extensions.Logging;
using Npgsql;
using IshChat.ServiceDefaults;

namespace IshChat.Bench.Stacks;

/// <summary>
/// A database behind one chat API process, started by the bench itself so that two stacks are compared with the
/// same API build, the same Redis and the same workload: only what sits between the API and its data differs.
/// </summary>
internal sealed class BenchStack : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> owned = [];

    private BenchStack(string description) => Description = description;

    public string Description { get; }

    public Uri ApiUrl { get; private set; } = null!;

    /// <summary>The Patroni cluster behind the API, when the stack is one.</summary>
    public PatroniTestCluster? Cluster { get; private set; }

    public string AdminKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>What the API's server process has used of the CPU so far (user + system), for CPU per request.</summary>
    public TimeSpan ApiCpuTime => api?.CpuTime ?? TimeSpan.Zero;

    /// <summary>The API server's process id (to profile it); 0 before it started.</summary>
    public int ApiProcessId => api?.Id ?? 0;

    /// <summary>The leader as the monitoring role, to sample replication lag during the run; null without replicas.</summary>
    public string? LeaderMonitorConnection { get; private set; }

    private ServiceProcess? api;

    /// <summary>The PgBouncer container and its stats-only console user's password, to read SHOW DATABASES; null where the API skips it.</summary>
    public (TestClusterNode Container, string StatsPassword)? PgBouncer { get; private set; }

    /// <summary>
    /// The HA cluster. <paramref name="direct"/> false: as the AppHost runs it, PgBouncer → HAProxy → Patroni leader and
    /// 3 async replicas. True: the same cluster with the API straight on the leader (writes) and one replica (reads),
    /// so the routing tier's own cost shows as the ratio between the two.
    /// </summary>
    public static async Task<BenchStack> StartClusterAsync(ILogger logger, BenchOptions options, bool direct)
    {
        var replication = options.Synchronous switch
        {
            SynchronousMode.On => "1 synchronous standby",
            SynchronousMode.Quorum => "quorum ANY 1",
            _ => "async",
        };
        var stack = new BenchStack(direct
            ? $"HA cluster ({replication}), no routing tier: API → Patroni leader (writes) / one replica (reads)"
            : $"HA cluster ({replication}): API → PgBouncer → HAProxy → Patroni leader + 3 replicas (reads on replicas){(options.Backups ? "; WAL archived to the backup store" : "")}");
        try
        {
            var cluster = await PatroniTestCluster.StartAsync(
                new TestClusterOptions { Patroni = new PatroniSettings { SynchronousMode = options.Synchronous }, BackupStore = options.Backups }, logger, CancellationToken.None);
            stack.owned.Add(cluster);
            stack.Cluster = cluster;
            await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));
            var leader = await cluster.LeaderAsync();
            var replica = cluster.Nodes.First(n => n != leader);

            var appPassword = cluster.Secret(ClusterSecret.AppPassword);
            var leaderAddress = await Address(options, leader, ClusterPorts.Postgres);
            var pgBouncer = await Address(options, cluster.PgBouncer, ClusterPorts.PgBouncer);
            stack.LeaderMonitorConnection = Connection(leaderAddress, ClusterRoles.Database, ClusterRoles.Monitor, cluster.Secret(ClusterSecret.MonitorPassword));
            // Through PgBouncer, each instance type also gets its own pools, as the AppHost wires them.
            var instanceTypePools = direct ? [] : InstanceTypes.All
                .SelectMany(type => (IEnumerable<(string type, bool readOnly)>)[(type, false), (type, true)])
                .ToDictionary(
                    p => ResourceNames.ChatDatabaseFor(p.type, p.readOnly),
                    p => Connection(pgBouncer, PgBouncerDatabases.ForInstanceType(p.type, p.readOnly), ClusterRoles.App, appPassword) + ";No Reset On Close=true");
            stack.PgBouncer = direct ? null : (cluster.PgBouncer, cluster.Secret(ClusterSecret.PgBouncerStatsPassword));
            var (readWrite, readOnly) = direct
                ? (Connection(leaderAddress, ClusterRoles.Database, ClusterRoles.App, appPassword),
                   Connection(await Address(options, replica, ClusterPorts.Postgres), ClusterRoles.Database, ClusterRoles.App, appPassword))
                : (Connection(pgBouncer, PgBouncerDatabases.ReadWrite, ClusterRoles.App, appPassword) + ";No Reset On Close=true",
                   Connection(pgBouncer, PgBouncerDatabases.ReadOnly, ClusterRoles.App, appPassword) + ";No Reset On Close=true");
            await stack.StartApiAsync(
                logger,
                options.ContainerAddresses,
                migrator: Connection(leaderAddress, ClusterRoles.Database, ClusterRoles.Migrator, cluster.Secret(ClusterSecret.MigratorPassword)),
                readWrite,
                readOnly,
                admin: (direct
                    ? Connection(leaderAddress, ClusterRoles.Database, ClusterRoles.Admin, cluster.Secret(ClusterSecret.AdminPassword))
                    : Connection(pgBouncer, PgBouncerDatabases.ReadWrite, ClusterRoles.Admin, cluster.Secret(ClusterSecret.AdminPassword)) + ";No Reset On Close=true"),
                instanceTypePools);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One plain PostgreSQL 17 (no Patroni, no pooler, no router, no replica): our image in its single-server mode, started
    /// by Testcontainers.PostgreSql, durable like the cluster, with the same roles and schema; the API's read-write and
    /// read-only connection strings both name it.
    /// </summary>
    public static async Task<BenchStack> StartSinglePostgresAsync(ILogger logger, BenchOptions options)
    {
        var stack = new BenchStack("one plain PostgreSQL: API → PostgreSQL (reads and writes on the same server)");
        try
        {
            var postgres = await SinglePostgres.StartAsync(logger, durable: true);
            stack.owned.Add(postgres);
            var address = options.ContainerAddresses
                ? (postgres.Container.IpAddress, ClusterPorts.Postgres)
                : ("127.0.0.1", postgres.HostPort);
            string As(string role) => new NpgsqlConnectionStringBuilder(postgres.ConnectionString(role)) { Host = address.Item1, Port = address.Item2 }.ConnectionString;
            await stack.StartApiAsync(logger, options.ContainerAddresses, migrator: As(ClusterRoles.Migrator), readWrite: As(ClusterRoles.App), readOnly: As(ClusterRoles.App), admin: As(ClusterRoles.Admin));
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // API first, then Redis and the database it uses.
        for (var i = owned.Count - 1; i >= 0; i--)
        {
            await owned[i].DisposeAsync();
        }
    }

    /// <summary>
    /// Where the API reaches a container: its address on the cluster's network (no Docker userland proxy; Linux hosts
    /// route to it) or the port Docker publishes on the loopback (through docker-proxy unless the engine runs without it).
    /// </summary>
    private static async Task<(string Host, int Port)> Address(BenchOptions options, TestClusterNode node, int containerPort) =>
        options.ContainerAddresses ? (await node.ContainerAddressAsync(), containerPort) : ("127.0.0.1", node.HostPort(containerPort));

    private static string Connection((string Host, int Port) address, string database, string role, string password) => new NpgsqlConnectionStringBuilder
    {
        Host = address.Host, Port = address.Port, Database = database, Username = role, Password = password,
    }.ConnectionString;

    /// <summary>Redis from our image, the schema applied by the migration service, then the API on a free loopback port.</summary>
    private async Task StartApiAsync(
        ILogger logger, bool containerAddresses, string migrator, string readWrite, string readOnly, string admin, IReadOnlyDictionary<string, string>? instanceTypePools = null)
    {
        await new ClusterImageBuilder(RepositoryLayout.Current, logger).EnsureBuiltAsync([ClusterImages.Redis], CancellationToken.None);
        var redisBuilder = new ContainerBuilder(ClusterImages.Redis.Reference(RepositoryLayout.Current))
            .WithPortBinding(ClusterPorts.Redis, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(ClusterPorts.Redis));
        var redis = await HostPortClash.StartAsync(redisBuilder.Build, logger, CancellationToken.None, created: owned.Add, abandoned: c => owned.Remove(c));

        await using (var migrations = ServiceProcess.Start("IshChat.MigrationService", new Dictionary<string, string>
        {
            [$"ConnectionStrings__{ResourceNames.ChatDatabaseMigrator}"] = migrator,
        }))
        {
            await migrations.WaitForSuccessAsync(TimeSpan.FromMinutes(2));
        }

        var port = ServiceProcess.FreeLoopbackPort();
        ApiUrl = new Uri($"http://127.0.0.1:{port}");
        api = ServiceProcess.Start("IshChat.Api", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = ApiUrl.ToString(),
            [$"ConnectionStrings__{ResourceNames.ChatDatabase}"] = readWrite,
            [$"ConnectionStrings__{ResourceNames.ChatDatabaseReadOnly}"] = readOnly,
            [$"ConnectionStrings__{ResourceNames.ChatDatabaseAdmin}"] = admin,
            [$"ConnectionStrings__{ResourceNames.Redis}"] = containerAddresses
                ? $"{redis.IpAddress}:{ClusterPorts.Redis}"
                : $"127.0.0.1:{redis.GetMappedPublicPort(ClusterPorts.Redis)}",
            ["Chat__AdminApiKey"] = AdminKey,
            ["Logging__LogLevel__Default"] = "Warning",
        }.Concat((instanceTypePools ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create($"ConnectionStrings__{p.Key}", p.Value))).ToDictionary());
        owned.Add(api);
        // Generous: on a loaded machine the first start (JIT, connection pools) takes long.
        await api.WaitForHealthyAsync(new Uri(ApiUrl, "/health"), TimeSpan.FromMinutes(3));
    }
}
