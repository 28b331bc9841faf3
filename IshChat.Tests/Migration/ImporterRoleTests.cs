extern alias migrate;

using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate;
using migrate::IshChat.Migrate.Target;
using Npgsql;

namespace IshChat.Tests.Migration;

/// <summary>
/// ishchat_importer bypasses row-level security so that COPY can go straight into chat.messages: what it may do
/// beyond that is what these tests pin down (docs/security.md, "The importer role").
/// </summary>
[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class ImporterRoleTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task TheImporterRoleReadsNoContentChangesNothingAndCreatesNothing()
    {
        // Given: an imported instance, so every table has rows
        var run = MigrationRun.Generate(fixture, "importer-reach", 1_000, dirt: 0.05, seed: 31, out _);
        Assert.Equal(0, (await run.RunAsync("import")).Exit);
        await using var importer = new NpgsqlConnection(fixture.LeaderConnectionString(ClusterRoles.Importer));
        await importer.OpenAsync();

        // Then: no message body, device name, reject, checkpoint, instance or key can be read
        string[] reads =
        [
            "SELECT body FROM chat.messages", "SELECT name FROM chat.devices", "SELECT started_at FROM chat.sessions",
            "SELECT raw_row FROM chat.legacy_rejects", "SELECT * FROM chat.legacy_id_map", "SELECT * FROM chat.legacy_imports",
            "SELECT * FROM chat.instances", "SELECT * FROM chat.api_keys", "SELECT * FROM chat_staging.legacy_stage_rows",
        ];
        // Then: nothing can be changed or removed, no trigger switched off, no object created, no other role taken
        string[] writes =
        [
            "UPDATE chat.messages SET body = 'x'", "DELETE FROM chat.messages", "TRUNCATE chat.messages", "DELETE FROM chat.sessions",
            "UPDATE chat.sessions SET message_count = 0", "UPDATE chat.legacy_id_map SET new_id = new_id", "DELETE FROM chat.legacy_id_map",
            "UPDATE chat.legacy_import_chunks SET chunk = chunk", "DELETE FROM chat.legacy_rejects",
            "INSERT INTO chat.instances (instance_id, name, instance_type) VALUES (gen_random_uuid(), 'x', 'trial')",
            "ALTER TABLE chat.messages DISABLE TRIGGER ALL", "CREATE TABLE chat.planted (id int)", "CREATE TABLE public.planted (id int)",
            "CREATE TEMP TABLE planted (id int)", "CREATE SCHEMA planted", "SET ROLE ishchat_admin", "SET ROLE ishchat_app",
        ];
        foreach (var sql in reads.Concat(writes))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(importer, sql));
            Assert.True(refused.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {refused.SqlState} {refused.MessageText}");
        }

        // Then: the role itself is no superuser, creates no role or database, replicates nothing, belongs to no role
        // (so not to PgBouncer's allowlist either) and only bypasses row-level security
        await using var attributes = new NpgsqlCommand("""
            SELECT rolbypassrls, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolinherit,
                   (SELECT count(*) FROM pg_auth_members WHERE member = r.oid)
              FROM pg_roles AS r WHERE rolname = current_user
            """, importer);
        await using var reader = await attributes.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetBoolean(0));
        Assert.False(reader.GetBoolean(1));
        Assert.Equal(0, reader.GetInt64(2));
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AnImportAsTheImporterLandsOnlyInItsInstanceAndAChunkNamingAnotherInstancesSessionIsRefusedWhole()
    {
        // Given: instance A imported, then instance B imported by the importer role's COPY
        var first = MigrationRun.Generate(fixture, "importer-a", 2_000, dirt: 0.05, seed: 32, out _);
        Assert.Equal(0, (await first.RunAsync("import")).Exit);
        var a = await first.InstanceIdAsync();
        var before = await first.CountAsync(a, "SELECT count(*) FROM chat.messages");
        var second = MigrationRun.Generate(fixture, "importer-b", 2_000, dirt: 0.05, seed: 33, out _);
        var (exit, summary) = await second.RunAsync("import");
        Assert.Equal(0, exit);
        Assert.Equal("copy (importer role)", summary.Values["messages_path"]);
        var b = await second.InstanceIdAsync();

        // Then: A is unchanged, every message of B is B's, with its session and sender in B, and verify passes
        Assert.Equal(before, await first.CountAsync(a, "SELECT count(*) FROM chat.messages"));
        Assert.Equal(((Dictionary<string, long>)summary.Values["importable"]!)["messages"], await second.CountAsync(b, "SELECT count(*) FROM chat.messages"));
        Assert.Equal(0, await second.CountAsync(b, """
            SELECT count(*) FROM chat.messages m
             WHERE NOT EXISTS (SELECT FROM chat.sessions s WHERE s.instance_id = m.instance_id AND s.session_id = m.session_id)
                OR NOT EXISTS (SELECT FROM chat.devices d WHERE d.instance_id = m.instance_id AND d.device_id = m.sender_device_id)
            """));
        Assert.Equal(0, (await second.RunAsync("verify")).Exit);

        // When: a chunk for B names one of A's sessions (what the foreign key's per-row check would refuse)
        var (session, sender) = await SessionOfAsync(first, a);
        await using var importer = new NpgsqlConnection(fixture.LeaderConnectionString(ClusterRoles.Importer));
        await importer.OpenAsync();
        await using var transaction = await importer.BeginTransactionAsync();
        StagedMessage[] chunk = [new(session, sender, 1_000_000, Guid.NewGuid(), DateTimeOffset.UtcNow, "planted", null)];
        var refused = await Assert.ThrowsAsync<MigrationException>(() => DirectCopy.WriteMessagesAsync(importer, b, chunk, CancellationToken.None));

        // Then: refused before anything was written
        Assert.Contains("not in instance", refused.Message, StringComparison.Ordinal);
        await transaction.RollbackAsync();
        Assert.Equal(0, await first.CountAsync(a, "SELECT count(*) FROM chat.messages WHERE body = 'planted'"));
        Assert.Equal(0, await second.CountAsync(b, "SELECT count(*) FROM chat.messages WHERE body = 'planted'"));
    }

    [Theory(Timeout = TestTimeouts.Integration)]
    [InlineData("a role without its privileges")]
    [InlineData("a login refused")]
    public async Task WithoutAUsableImporterRoleTheMessagesAreStagedAsTheAdminRoleAndStillVerify(string importer)
    {
        // Given: the importer connection names a role that doesn't bypass row-level security, or a login the cluster
        // refuses (both what a cluster bootstrapped before the role offers)
        var run = MigrationRun.Generate(fixture, "importer-fallback", 1_500, dirt: 0.05, seed: 34, out _);
        var arguments = run.Arguments("import");
        arguments[Array.IndexOf(arguments, "--importer-connection") + 1] = importer == "a login refused"
            ? new NpgsqlConnectionStringBuilder(fixture.LeaderConnectionString(ClusterRoles.Importer)) { Password = "not-its-password" }.ConnectionString
            : fixture.LeaderConnectionString(ClusterRoles.App);

        // When: importing
        var (exit, summary) = await migrate::IshChat.Migrate.Cli.Commands.ExecuteAsync(migrate::IshChat.Migrate.Cli.Options.Parse(arguments), CancellationToken.None);

        // Then: the staged path did it, and verify passes
        Assert.Equal(0, exit);
        Assert.Equal("staged (admin role)", summary.Values["messages_path"]);
        Assert.Equal(0, (await run.RunAsync("verify")).Exit);
    }

    private static async Task<(Guid Session, Guid Sender)> SessionOfAsync(MigrationRun run, Guid instance)
    {
        var row = (await run.QueryAsync(instance, "SELECT session_id, sender_device_id FROM chat.messages LIMIT 1"))[0];
        return ((Guid)row[0]!, (Guid)row[1]!);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
