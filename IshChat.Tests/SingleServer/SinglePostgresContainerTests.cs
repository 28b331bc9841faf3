using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IshChat.Tests.SingleServer;

/// <summary>
/// Our patroni image in its single-server mode, started by Testcontainers.PostgreSql's PostgreSqlBuilder as if it were
/// the official postgres image: the contract the bench's baseline and Aspire's AddPostgres rely on.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class SinglePostgresContainerTests
{
    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task PostgreSqlBuilderStartsOurImageAsOnePlainPostgresWithTheIshChatRolesAndTheSchemaApplies()
    {
        // Given
        var cancellationToken = CancellationToken.None;
        await using var postgres = await SinglePostgres.StartAsync(NullLogger.Instance, cancellationToken: cancellationToken);

        // When: the migration service's schema, as the migrator
        await new IshChat.MigrationService.SchemaMigrator(postgres.ConnectionString(ClusterRoles.Migrator), NullLogger.Instance).MigrateAsync(cancellationToken);

        // Then: Testcontainers' own superuser string works, no Patroni runs, and the app role is bound by row-level security.
        await using var superuser = new NpgsqlConnection(postgres.Container.GetConnectionString());
        await superuser.OpenAsync(cancellationToken);
        await using (var version = new NpgsqlCommand("SELECT current_setting('server_version_num')::int / 10000, pg_is_in_recovery()", superuser))
        await using (var reader = await version.ExecuteReaderAsync(cancellationToken))
        {
            Assert.True(await reader.ReadAsync(cancellationToken));
            Assert.Equal(17, reader.GetInt32(0));
            Assert.False(reader.GetBoolean(1));
        }

        await using var app = new NpgsqlConnection(postgres.ConnectionString(ClusterRoles.App));
        await app.OpenAsync(cancellationToken);
        await using var role = new NpgsqlCommand(
            "SELECT rolsuper, rolbypassrls, has_table_privilege('chat.messages', 'INSERT') FROM pg_roles WHERE rolname = current_user", app);
        await using var row = await role.ExecuteReaderAsync(cancellationToken);
        Assert.True(await row.ReadAsync(cancellationToken));
        Assert.False(row.GetBoolean(0), "the app role is a superuser");
        Assert.False(row.GetBoolean(1), "the app role bypasses row-level security");
        Assert.True(row.GetBoolean(2), "the migrations did not grant the app role its tables");
    }
}
