using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Failover;

/// <summary>
/// What PgBouncer's entries reach, and whom it lets in: the checks of the old smoke script, on the cluster the
/// failover scenarios share (its passwords hold quotes, spaces, '#', ':' and '\').
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class RoutingTests(FailoverClusterFixture fixture)
{
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task ReadWriteEntryReachesTheLeaderAndReadOnlyEntryAReplica()
    {
        // Given a healthy cluster
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);

        // When the app role asks each entry whether its server is in recovery
        var readWrite = await InRecoveryAsync(cluster.PgBouncerConnectionString(ClusterRoles.App, PgBouncerDatabases.ReadWrite));
        var readOnly = await InRecoveryAsync(cluster.PgBouncerConnectionString(ClusterRoles.App, PgBouncerDatabases.ReadOnly));

        // Then the read-write entry is the leader and the read-only one a replica
        Assert.False(readWrite);
        Assert.True(readOnly);
    }

    [Theory(Timeout = TestTimeouts.Failover)]
    [InlineData(ClusterRoles.Superuser)]
    [InlineData(ClusterRoles.Replication)]
    public async Task PgBouncerRefusesRolesThatAreNotForClients(string role)
    {
        // Given the role's correct password
        var cluster = fixture.Cluster;
        var connectionString = new NpgsqlConnectionStringBuilder(cluster.PgBouncerConnectionString())
        {
            Username = role,
            Password = cluster.Secret(ClusterRoles.PasswordOf(role)),
        }.ConnectionString;

        // When it logs in through PgBouncer
        var refused = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
        });

        // Then PgBouncer's auth_query (pgbouncer.get_auth skips superusers and replication roles) finds no such user
        Assert.Equal(PostgresErrorCodes.ProtocolViolation, refused.SqlState);
        Assert.Contains("no such user", refused.MessageText, StringComparison.Ordinal);
    }

    private static async Task<bool> InRecoveryAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
