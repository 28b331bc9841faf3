using IshChat.MigrationService;
using Microsoft.Extensions.Logging;
using Npgsql;

// Usage: dotnet run -c Release --project IshChat.Bench.Migration -- ENV_FILE
// Starts the cluster (1 etcd, leader + 1 streaming replica, HAProxy), applies the chat schema,
// creates an empty database for pgloader on the same leader, writes the connection settings to
// ENV_FILE (shell syntax) and keeps everything up until stdin closes; then removes it all.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: IshChat.Bench.Migration ENV_FILE");
    return 2;
}

using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
var logger = loggerFactory.CreateLogger("bench");
await using var cluster = await PatroniTestCluster.StartAsync(new TestClusterOptions { EtcdMembers = 1, Replicas = 1 }, logger, CancellationToken.None);
await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));

var port = cluster.HAProxy.HostPort(ClusterPorts.HAProxyReadWrite);
string Connection(string role, string database) => new NpgsqlConnectionStringBuilder
{
    Host = "127.0.0.1", Port = port, Database = database, Username = role, Password = cluster.Secret(ClusterRoles.PasswordOf(role)),
}.ConnectionString;

if (!await new SchemaMigrator(Connection(ClusterRoles.Migrator, ClusterRoles.Database), logger).MigrateAsync(CancellationToken.None))
{
    return 1;
}

// pgloader writes into its own database on the same leader, as the superuser (it creates tables).
await using (var connection = new NpgsqlConnection(Connection(ClusterRoles.Superuser, "postgres")))
{
    await connection.OpenAsync();
    await new NpgsqlCommand("CREATE DATABASE pgloader_target", connection).ExecuteNonQueryAsync();
}

static string Quote(string value) => "'" + value.Replace("'", "'\\''") + "'";
File.WriteAllText(args[0], $"""
    BENCH_APP_CONNECTION={Quote(Connection(ClusterRoles.Admin, ClusterRoles.Database))}
    BENCH_IMPORTER_CONNECTION={Quote(Connection(ClusterRoles.Importer, ClusterRoles.Database))}
    BENCH_PG_HOST=127.0.0.1
    BENCH_PG_PORT={port}
    BENCH_PG_SUPERUSER={ClusterRoles.Superuser}
    BENCH_PG_SUPERUSER_PASSWORD={Quote(cluster.Secret(ClusterRoles.PasswordOf(ClusterRoles.Superuser)))}
    BENCH_PG_APP_PASSWORD={Quote(cluster.Secret(ClusterRoles.PasswordOf(ClusterRoles.App)))}
    BENCH_NODE_CONTAINERS={Quote(string.Join(' ', cluster.Nodes.Select(n => n.ContainerId)))}

    """);
Console.Error.WriteLine($"Cluster up; settings in {args[0]}. Close stdin to remove it.");
await Console.In.ReadToEndAsync();
return 0;
