using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// Least privilege, read from the catalog of the running cluster: which role may do what to which object
/// (docs/security.md, "Roles and privileges"). A grant added or lost anywhere (bootstrap, a migration) fails here.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class PrivilegeMatrixTests(AppHostClusterFixture fixture)
{
    /// <summary>Role × object × action → allowed, in the chat database.</summary>
    public static TheoryData<string, string, string, string, bool> ChatDatabaseMatrix => new()
    {
        // The tenant role: its instance's data, no directory.
        { ClusterRoles.App, "table", "chat.messages", "SELECT,INSERT,UPDATE,DELETE", true },
        { ClusterRoles.App, "table", "chat.instances", "SELECT", true },
        { ClusterRoles.App, "table", "chat.instances", "INSERT", false },
        { ClusterRoles.App, "table", "chat.instances", "UPDATE", false },
        { ClusterRoles.App, "table", "chat.instances", "DELETE", false },
        { ClusterRoles.App, "table", "chat.api_keys", "SELECT", false },
        { ClusterRoles.App, "table", "chat.api_keys", "INSERT", false },
        { ClusterRoles.App, "table", "chat.api_keys", "UPDATE", false },
        { ClusterRoles.App, "function", "chat.list_instances(uuid, int)", "EXECUTE", false },
        { ClusterRoles.App, "function", "chat.find_instance_by_key(bytea)", "EXECUTE", true },
        { ClusterRoles.App, "table", "chat.schema_versions", "SELECT", false },
        // The admin API's role: the directory, and nothing to delete.
        { ClusterRoles.Admin, "table", "chat.instances", "SELECT,INSERT", true },
        { ClusterRoles.Admin, "table", "chat.instances", "DELETE", false },
        { ClusterRoles.Admin, "table", "chat.api_keys", "SELECT,INSERT", true },
        { ClusterRoles.Admin, "table", "chat.api_keys", "DELETE", false },
        { ClusterRoles.Admin, "function", "chat.list_instances(uuid, int)", "EXECUTE", true },
        // The import's bulk role bypasses RLS, so it may only insert where an import writes and read ids.
        { ClusterRoles.Importer, "table", "chat.messages", "INSERT", true },
        { ClusterRoles.Importer, "table", "chat.messages", "SELECT,UPDATE,DELETE,TRUNCATE", false },
        // Since 0007 a legacy import's sessions go in through the importer too, INSERT only (docs/security.md).
        { ClusterRoles.Importer, "table", "chat.sessions", "INSERT", true },
        { ClusterRoles.Importer, "table", "chat.sessions", "UPDATE,DELETE,TRUNCATE", false },
        { ClusterRoles.Importer, "table", "chat.legacy_id_map", "INSERT", true },
        { ClusterRoles.Importer, "table", "chat.legacy_id_map", "UPDATE,DELETE,TRUNCATE", false },
        { ClusterRoles.Importer, "table", "chat.legacy_rejects", "INSERT", true },
        { ClusterRoles.Importer, "table", "chat.legacy_rejects", "SELECT,UPDATE,DELETE", false },
        { ClusterRoles.Importer, "table", "chat.instances", "SELECT,INSERT", false },
        { ClusterRoles.Importer, "table", "chat.api_keys", "SELECT,INSERT", false },
        { ClusterRoles.Importer, "function", "chat.list_instances(uuid, int)", "EXECUTE", false },
        { ClusterRoles.Importer, "database", ClusterRoles.Database, "CREATE,TEMPORARY", false },
        // Monitoring and PgBouncer's auth user see no chat data at all.
        { ClusterRoles.Monitor, "table", "chat.messages", "SELECT", false },
        { ClusterRoles.Monitor, "table", "chat.instances", "SELECT", false },
        { ClusterRoles.PgBouncerAuth, "table", "chat.messages", "SELECT", false },
        { ClusterRoles.PgBouncerAuth, "function", "chat.find_instance_by_key(bytea)", "EXECUTE", false },
        { ClusterRoles.PgBouncerAuth, "database", ClusterRoles.Database, "CONNECT", false },
        { ClusterRoles.Monitor, "database", ClusterRoles.Database, "CREATE", false },
        { ClusterRoles.App, "database", ClusterRoles.Database, "CREATE", false },
        { ClusterRoles.Admin, "database", ClusterRoles.Database, "CREATE", false },
        { ClusterRoles.Migrator, "database", ClusterRoles.Database, "CREATE", true },
    };

    [Theory(Timeout = TestTimeouts.Integration)]
    [MemberData(nameof(ChatDatabaseMatrix))]
    public async Task EachRoleHasExactlyItsPrivilegesInTheChatDatabase(string role, string kind, string target, string actions, bool allowed)
    {
        // Given the catalog of the running cluster, asked by the schema's owner (any role may ask about any other, but
        // naming an object takes USAGE on its schema)
        await using var connection = await ConnectAsync(ClusterRoles.Migrator, ClusterRoles.Database);

        // When asked, for each action, whether the role may do it
        var answers = new List<bool>();
        foreach (var action in actions.Split(','))
        {
            answers.Add(await HasPrivilegeAsync(connection, role, kind, target, action));
        }

        // Then the answer is the matrix's
        Assert.All(answers, answer => Assert.Equal(allowed, answer));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task PgBouncersAuthUserCanOnlyLookUpThePooledRolesVerifiers()
    {
        // Given PgBouncer's auth user, connected as PgBouncer connects it (its auth_dbname, postgres)
        await using var authUser = await ConnectAsync(ClusterRoles.PgBouncerAuth, "postgres");

        // When it asks get_auth for each role, and for a table it might read directly
        var handedOut = new Dictionary<string, bool>();
        foreach (var role in new[] { ClusterRoles.App, ClusterRoles.Admin, ClusterRoles.Migrator, ClusterRoles.Monitor, ClusterRoles.Importer,
                     ClusterRoles.Superuser, ClusterRoles.Replication, ClusterRoles.Rewind, ClusterRoles.PgBouncerAuth, ClusterRoles.PooledRoles })
        {
            handedOut[role] = await ScalarAsync<long>(authUser, "SELECT count(*) FROM pgbouncer.get_auth($1)", role) == 1;
        }

        var readsAuthid = await HasPrivilegeAsync(authUser, ClusterRoles.PgBouncerAuth, "table", "pg_catalog.pg_authid", "SELECT");
        var othersMayCall = await HasPrivilegeAsync(authUser, ClusterRoles.App, "function", "pgbouncer.get_auth(text)", "EXECUTE");

        // Then only the four pooled roles' verifiers come out; it can't read pg_authid itself, and nobody else may ask
        Assert.Equal(
            new Dictionary<string, bool>
            {
                [ClusterRoles.App] = true, [ClusterRoles.Admin] = true, [ClusterRoles.Migrator] = true, [ClusterRoles.Monitor] = true,
                [ClusterRoles.Importer] = false, [ClusterRoles.Superuser] = false, [ClusterRoles.Replication] = false, [ClusterRoles.Rewind] = false,
                [ClusterRoles.PgBouncerAuth] = false, [ClusterRoles.PooledRoles] = false,
            },
            handedOut);
        Assert.False(readsAuthid);
        Assert.False(othersMayCall);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ANewFunctionIsExecutableByNobodyUntilGranted()
    {
        // Given the migrator creating a function, as a future migration would
        await using var migrator = new NpgsqlConnection(await fixture.MigratorConnectionStringAsync());
        await migrator.OpenAsync();
        var schema = $"privtest_{Guid.NewGuid():N}"[..20];
        await ExecuteAsync(migrator, $"CREATE SCHEMA {schema}; CREATE FUNCTION {schema}.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'");
        try
        {
            // When the catalog is asked who may execute it
            var publicMay = await ScalarAsync<bool>(migrator,
                $"SELECT coalesce(bool_or(a.grantee = 0), false) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE p.oid = '{schema}.answer()'::regprocedure AND a.privilege_type = 'EXECUTE'");
            var appMay = await HasPrivilegeAsync(migrator, ClusterRoles.App, "function", $"{schema}.answer()", "EXECUTE");

            // Then neither PUBLIC nor the app role may (ALTER DEFAULT PRIVILEGES)
            Assert.False(publicMay);
            Assert.False(appMay);
        }
        finally
        {
            await ExecuteAsync(migrator, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task TheTenantRoleIsRefusedWhenItTriesToCreateAnInstanceOrAKey()
    {
        // Given the tenant role's own connection through PgBouncer
        await using var connection = new NpgsqlConnection(await fixture.ConnectionStringAsync(ResourceNames.ChatDatabase));
        await connection.OpenAsync();

        // When it tries to create an instance, to issue itself a key, or to list every instance
        var instance = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection,
            $"INSERT INTO chat.instances (instance_id, name, instance_type) VALUES ('{Guid.NewGuid()}', 'mine', 'trial')"));
        var key = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection,
            $"INSERT INTO chat.api_keys (key_hash, instance_id) VALUES ('\\x{new string('0', 64)}', '{Guid.NewGuid()}')"));
        var list = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "SELECT * FROM chat.list_instances(NULL, 10)"));

        // Then each is a permission error
        Assert.All([instance, key, list], e => Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState));
    }

    private async Task<NpgsqlConnection> ConnectAsync(string role, string database)
    {
        var connection = new NpgsqlConnection(await fixture.PgBouncerConnectionStringAsync(role, database));
        await connection.OpenAsync();
        return connection;
    }

    private static Task<bool> HasPrivilegeAsync(NpgsqlConnection connection, string role, string kind, string target, string action) => kind switch
    {
        "table" => ScalarAsync<bool>(connection, "SELECT has_table_privilege($1, $2, $3)", role, target, action),
        "function" => ScalarAsync<bool>(connection, "SELECT has_function_privilege($1, $2, $3)", role, target, action),
        "database" => ScalarAsync<bool>(connection, "SELECT has_database_privilege($1, $2, $3)", role, target, action),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "table, function or database"),
    };

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
