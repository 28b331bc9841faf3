using System.Security.Cryptography;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
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

    /// <summary>The HA stack as the AppHost runs it: PgBouncer → HAProxy → Patroni leader and 3 async replicas, 3 etcd.</summary>
    public static async Task<BenchStack> StartClusterAsync(ILogger logger, SynchronousMode synchronous = SynchronousMode.Off, bool backups = false)
    {
        var replication = synchronous switch
        {
            SynchronousMode.On => "1 synchronous standby",
            SynchronousMode.Quorum => "quorum ANY 1",
            _ => "async",
        };
        var stack = new BenchStack($"HA cluster ({replication}): API → PgBouncer → HAProxy → Patroni leader + 3 replicas (reads on replicas){(backups ? "; WAL archived to the backup store" : "")}");
        try
        {
            var cluster = await PatroniTestCluster.StartAsync(
                new TestClusterOptions { Patroni = new PatroniSettings { SynchronousMode = synchronous }, BackupStore = backups }, logger, CancellationToken.None);
            stack.owned.Add(cluster);
            stack.Cluster = cluster;
            await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));

            var pgBouncerPort = cluster.PgBouncer.HostPort(ClusterPorts.PgBouncer);
            var haproxyPort = cluster.HAProxy.HostPort(ClusterPorts.HAProxyReadWrite);
            var appPassword = cluster.Secret(ClusterSecret.AppPassword);
            await stack.StartApiAsync(
                logger,
                migrator: Connection(haproxyPort, ClusterRoles.Database, ClusterRoles.Migrator, cluster.Secret(ClusterSecret.MigratorPassword)),
                readWrite: Connection(pgBouncerPort, PgBouncerDatabases.ReadWrite, ClusterRoles.App, appPassword) + ";No Reset On Close=true",
                readOnly: Connection(pgBouncerPort, PgBouncerDatabases.ReadOnly, ClusterRoles.App, appPassword) + ";No Reset On Close=true");
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One plain PostgreSQL 17 (no Patroni, no pooler, no router, no replica) from the same image, with the same server
    /// parameters, roles and schema; the API's read-write and read-only connection strings both name it.
    /// </summary>
    public static async Task<BenchStack> StartSinglePostgresAsync(ILogger logger)
    {
        var stack = new BenchStack("one plain PostgreSQL: API → PostgreSQL (reads and writes on the same server)");
        try
        {
            TestcontainersSettings.ResourceReaperEnabled = false;
            await new ClusterImageBuilder(RepositoryLayout.Current, logger).EnsureBuiltAsync(ClusterImages.All, CancellationToken.None);
            var secrets = Enum.GetValues<ClusterSecret>().ToDictionary(s => s, _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            var environment = ComponentEnvironment.PatroniNode("pg-0", "bench", ["unused"], new PatroniSettings())
                .ToDictionary(e => e.Key, e => e.Value.Resolve(s => secrets[s]));
            var postgres = new ContainerBuilder(ClusterImages.Patroni.Reference(RepositoryLayout.Current))
                .WithEntrypoint("/usr/bin/tini", "--", "bash", "-c", PlainPostgresScript)
                .WithEnvironment(environment)
                .WithPortBinding(ClusterPorts.Postgres, assignRandomHostPort: true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("IshChat single PostgreSQL ready"))
                .Build();
            stack.owned.Add(postgres);
            await postgres.StartAsync();

            var port = postgres.GetMappedPublicPort(ClusterPorts.Postgres);
            var app = Connection(port, ClusterRoles.Database, ClusterRoles.App, secrets[ClusterSecret.AppPassword]);
            await stack.StartApiAsync(
                logger,
                migrator: Connection(port, ClusterRoles.Database, ClusterRoles.Migrator, secrets[ClusterSecret.MigratorPassword]),
                readWrite: app,
                readOnly: app);
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
    /// initdb with Patroni's initdb options and server parameters (containers/patroni/patroni.yml.tmpl), the same
    /// post-bootstrap hook for the database and roles, then PostgreSQL in the foreground.
    /// </summary>
    private const string PlainPostgresScript = """
        set -euo pipefail
        data=/var/lib/postgresql/data/single
        initdb -D "$data" -U "$PATRONI_SUPERUSER_USERNAME" --encoding=UTF8 --locale=C.UTF-8 --data-checksums \
          --auth-local=peer --auth-host=scram-sha-256 >/dev/null
        echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
        settings=(-c listen_addresses='*' -c max_connections=200 -c shared_buffers=128MB -c wal_level=replica
                  -c password_encryption=scram-sha-256 -c shared_preload_libraries=pg_stat_statements -c track_io_timing=on
                  -c unix_socket_directories=/var/run/postgresql)
        pg_ctl -D "$data" -w -o "${settings[*]}" start >/dev/null
        ishchat-post-bootstrap "postgres://$PATRONI_SUPERUSER_USERNAME@/postgres?host=/var/run/postgresql"
        pg_ctl -D "$data" -w stop >/dev/null
        echo "IshChat single PostgreSQL ready"
        exec postgres -D "$data" "${settings[@]}"
        """;

    private static string Connection(int port, string database, string role, string password) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = port, Database = database, Username = role, Password = password,
    }.ConnectionString;

    /// <summary>Redis from our image, the schema applied by the migration service, then the API on a free loopback port.</summary>
    private async Task StartApiAsync(ILogger logger, string migrator, string readWrite, string readOnly)
    {
        await new ClusterImageBuilder(RepositoryLayout.Current, logger).EnsureBuiltAsync([ClusterImages.Redis], CancellationToken.None);
        var redis = new ContainerBuilder(ClusterImages.Redis.Reference(RepositoryLayout.Current))
            .WithPortBinding(ClusterPorts.Redis, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(ClusterPorts.Redis))
            .Build();
        owned.Add(redis);
        await redis.StartAsync();

        await using (var migrations = ServiceProcess.Start("IshChat.MigrationService", new Dictionary<string, string>
        {
            [$"ConnectionStrings__{ResourceNames.ChatDatabaseMigrator}"] = migrator,
        }))
        {
            await migrations.WaitForSuccessAsync(TimeSpan.FromMinutes(2));
        }

        var port = ServiceProcess.FreeLoopbackPort();
        ApiUrl = new Uri($"http://127.0.0.1:{port}");
        var api = ServiceProcess.Start("IshChat.Api", new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = ApiUrl.ToString(),
            [$"ConnectionStrings__{ResourceNames.ChatDatabase}"] = readWrite,
            [$"ConnectionStrings__{ResourceNames.ChatDatabaseReadOnly}"] = readOnly,
            [$"ConnectionStrings__{ResourceNames.Redis}"] = $"127.0.0.1:{redis.GetMappedPublicPort(ClusterPorts.Redis)}",
            ["Chat__AdminApiKey"] = AdminKey,
            ["Logging__LogLevel__Default"] = "Warning",
        });
        owned.Add(api);
        await api.WaitForHealthyAsync(new Uri(ApiUrl, "/health"), TimeSpan.FromMinutes(1));
    }
}
