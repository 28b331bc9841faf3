extern alias migrate;

using IshChat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace IshChat.Tests.Migration;

[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class SyncTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task SyncPicksUpExactlyTheRowsAddedAndEditedSinceTheImport()
    {
        // Given: an imported file that the legacy app then kept writing to
        var run = MigrationRun.Generate(fixture, "sync", 5_000, dirt: 0.03, seed: 3, out var manifest);
        Assert.Equal(0, (await run.RunAsync("import")).Exit);
        var instance = await run.InstanceIdAsync();
        var valid = manifest.ValidMessages!.Keys.Order().ToList();
        var edited = valid.Take(23).ToList();
        var templates = valid.Skip(100).Take(37).ToList();
        var fixedReject = manifest.ExpectedRejects.First(r => r.Value == "body_missing").Key.RowId;
        using (var legacy = new SqliteConnection($"Data Source={run.Sqlite};Foreign Keys=False;Pooling=False"))
        {
            legacy.Open();
            Execute(legacy, $"UPDATE messages SET body = body || ' (edited)' WHERE id IN ({string.Join(",", edited)})");
            // 37 new messages in existing sessions, from the same senders.
            Execute(legacy, $"""
                INSERT INTO messages (session_id, sender_id, client_msg_id, body, created_at, deleted)
                SELECT session_id, sender_id, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
                       'new after import ' || id, 1767225600 + id, 0
                  FROM messages WHERE id IN ({string.Join(",", templates)})
                """);
            // A new session with two messages, and a rejected message the app repaired.
            Execute(legacy, $"""
                INSERT INTO sessions (id, device_id, started_at, closed)
                SELECT max(s.id) + 1, (SELECT device_id FROM sessions WHERE id = (SELECT session_id FROM messages WHERE id = {valid[0]})), '2026-01-01 10:00:00', 0 FROM sessions s;
                INSERT INTO messages (session_id, sender_id, body, created_at)
                SELECT (SELECT max(id) FROM sessions), (SELECT sender_id FROM messages WHERE id = {valid[0]}), 'first in a new session', '2026-01-01T10:00:01Z'
                UNION ALL SELECT (SELECT max(id) FROM sessions), (SELECT sender_id FROM messages WHERE id = {valid[0]}), 'second', '2026-01-01T10:00:02Z';
                UPDATE messages SET body = 'repaired' WHERE id = {fixedReject};
                """);
        }

        // When
        var (exit, summary) = await run.RunAsync("sync");

        // Then: the delta, no more, no less
        Assert.Equal(0, exit);
        var delta = (Dictionary<string, long>)summary.Values["delta"]!;
        Assert.Equal(37 + 2 + 1, delta["messages_added"]);
        Assert.Equal(23, delta["messages_edited"]);
        Assert.Equal(1, delta["sessions_added"]);
        Assert.Equal(0, delta["sessions_edited"]);
        Assert.Equal(0, delta["devices_added"] + delta["devices_edited"]);
        Assert.Equal(1, delta["rejects_resolved"]);
        Assert.Equal(23, await run.CountAsync(instance, "SELECT count(*) FROM chat.messages WHERE body LIKE '% (edited)'"));
        Assert.Equal(valid.Count + 40, await run.CountAsync(instance, "SELECT count(*) FROM chat.messages"));
        Assert.Equal(0, (await run.RunAsync("verify")).Exit);

        // And: a second sync finds nothing left to do
        var again = (Dictionary<string, long>)(await run.RunAsync("sync")).Summary.Values["delta"]!;
        Assert.All(again, pair => Assert.Equal(0, pair.Value));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
