extern alias migrate;

using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Migration;

[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class IsolationTests(MigrationClusterFixture fixture)
{
    private static readonly string[] tables = ["devices", "sessions", "messages", "legacy_id_map", "legacy_rejects", "legacy_imports", "legacy_import_chunks"];

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AnotherInstanceSeesAndChangesNoneOfTheImportedRows()
    {
        // Given: two instances imported from two files
        var first = MigrationRun.Generate(fixture, "tenant-a", 2_000, dirt: 0.05, seed: 21, out _);
        var second = MigrationRun.Generate(fixture, "tenant-b", 500, dirt: 0.05, seed: 22, out _);
        Assert.Equal(0, (await first.RunAsync("import")).Exit);
        Assert.Equal(0, (await second.RunAsync("import")).Exit);
        var a = await first.InstanceIdAsync();
        var b = await second.InstanceIdAsync();

        foreach (var table in tables)
        {
            // Then: scoped to B, none of A's rows; unscoped, nothing at all; scoped to A, A's own
            Assert.Equal(0, await first.CountAsync(b, $"SELECT count(*) FROM chat.{table} WHERE instance_id = $1", a));
            Assert.Equal(0, await first.CountAsync(null, $"SELECT count(*) FROM chat.{table}"));
            Assert.True(await first.CountAsync(a, $"SELECT count(*) FROM chat.{table} WHERE instance_id = $1", a) > 0, $"A has no {table}");
        }

        // Then: B can neither change A's messages nor stage rows into A
        var updated = await first.QueryAsync(b, "UPDATE chat.messages SET body = 'hijacked' WHERE instance_id = $1 RETURNING 1", a);
        Assert.Empty(updated);
        var staging = await Assert.ThrowsAsync<PostgresException>(() => first.QueryAsync(b, """
            INSERT INTO chat_staging.legacy_stage_rows (instance_id, legacy_table, legacy_id, legacy_rowid, new_id, row_hash)
            VALUES ($1, 'devices', 'x', 1, gen_random_uuid(), '\x00') RETURNING 1
            """, a));
        Assert.Equal(PostgresErrorCodes.CheckViolation, staging.SqlState);

        // Then: no staged row outlived its import
        Assert.Equal(0, await first.CountAsync(null, "SELECT (SELECT count(*) FROM chat_staging.legacy_stage_rows) + (SELECT count(*) FROM chat_staging.legacy_stage_messages_0) + (SELECT count(*) FROM chat_staging.legacy_stage_messages_1)"));
    }
}
