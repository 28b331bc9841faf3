using IshChat.Cluster.Testcontainers;
using Npgsql;

namespace IshChat.Tests.Backup;

/// <summary>SQL against the backup cluster: as the superuser on one node, or as a role through HAProxy's read-write port.</summary>
internal static class BackupSql
{
    /// <summary>HAProxy's read-write port: the current leader, as <paramref name="role"/>, as the API connects (less PgBouncer).</summary>
    public static string LeaderConnectionString(PatroniTestCluster cluster, string role) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = cluster.HAProxy.HostPort(ClusterPorts.HAProxyReadWrite), Database = ClusterRoles.Database,
        Username = role, Password = cluster.Secret(ClusterRoles.PasswordOf(role)), Pooling = false, Timeout = 15, CommandTimeout = 60,
    }.ConnectionString;

    public static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 60 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 60 };
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
