extern alias migrate;

using System.Text.Json;
using migrate::IshChat.Migrate.Mapping;
using IshChat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace IshChat.Tests.Migration;

[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class RoundTripTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ADirtyGeneratedDatabaseRoundTripsWithEveryValidRowByteExactAndEveryInvalidRowRejectedWithItsReason()
    {
        // Given: 20 000 messages, 5 % of rows dirty in one way each (plus what depends on them)
        var run = MigrationRun.Generate(fixture, "roundtrip", 20_000, dirt: 0.05, seed: 7, out var manifest);

        // When
        var (exit, _) = await run.RunAsync("import");

        // Then: the rejects are exactly the dirty rows, each with the generator's reason
        Assert.Equal(0, exit);
        var instance = await run.InstanceIdAsync();
        var expectedRejects = manifest.ExpectedRejects.Select(r => $"{r.Key.Table}/{r.Key.RowId}/{r.Value}").Order().ToList();
        var rejects = await run.QueryAsync(instance, "SELECT legacy_table, legacy_rowid, reason_code, reason FROM chat.legacy_rejects");
        Assert.Equal(expectedRejects, rejects.Select(r => $"{r[0]}/{r[1]}/{r[2]}").Order().ToList());
        Assert.All(rejects, r => Assert.False(string.IsNullOrWhiteSpace((string?)r[3])));
        var report = File.ReadAllLines(run.RejectsPath).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(expectedRejects, report.Select(r => $"{r.GetProperty("table")}/{r.GetProperty("rowid")}/{r.GetProperty("code")}").Order().ToList());

        // Then: every valid message is there once, its body the same bytes SQLite holds, its time to the microsecond
        var legacyBodies = ReadLegacyBodies(run.Sqlite);
        // A message is identified by its session and client id; app v1 wrote none, those get the documented derived id.
        var expected = manifest.ValidMessages!.ToDictionary(
            m => (m.Value.Session, m.Value.ClientId is { } client ? Guid.Parse(client) : NewIds.DerivedClientId(instance, m.Key)), m => m.Key);
        var imported = await run.QueryAsync(instance, """
            SELECT sm.legacy_id, m.client_message_id, convert_to(m.body, 'UTF8'), m.created_at
              FROM chat.messages m JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.new_id = m.session_id
            """);
        Assert.Equal(expected.Count, imported.Count);
        Assert.Equal(imported.Count, await run.CountAsync(instance, "SELECT count(*) FROM chat.messages"));
        foreach (var row in imported)
        {
            Assert.True(expected.TryGetValue((long.Parse((string)row[0]!, System.Globalization.CultureInfo.InvariantCulture), (Guid)row[1]!), out var id), $"an imported message is not a valid legacy one: {row[0]}/{row[1]}");
            Assert.Equal(legacyBodies[id], (byte[])row[2]!);
            Assert.Equal(manifest.ValidMessages![id].CreatedAt, new DateTimeOffset((DateTime)row[3]!));
        }

        // Then: each session numbered 1..n without a gap, in the legacy order (created_at)
        Assert.Equal(0, await run.CountAsync(instance, """
            SELECT count(*) FROM (SELECT seq, row_number() OVER w AS n, created_at < lag(created_at) OVER w AS backwards
                                    FROM chat.messages WINDOW w AS (PARTITION BY session_id ORDER BY seq)) x
             WHERE seq <> n OR backwards
            """));
        Assert.Equal(0, (await run.RunAsync("verify")).Exit);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task RunningImportAgainChangesNothing()
    {
        // Given
        var run = MigrationRun.Generate(fixture, "again", 3_000, dirt: 0.05, seed: 11, out _);
        Assert.Equal(0, (await run.RunAsync("import")).Exit);
        var instance = await run.InstanceIdAsync();
        const string Counts = "SELECT (SELECT count(*) FROM chat.messages) || '/' || (SELECT count(*) FROM chat.legacy_id_map) || '/' || (SELECT count(*) FROM chat.legacy_rejects)";
        var before = (string)(await run.QueryAsync(instance, Counts))[0][0]!;

        // When
        var (exit, summary) = await run.RunAsync("import");

        // Then
        Assert.Equal(0, exit);
        Assert.Equal(true, summary.Values["already_imported"]);
        Assert.Equal(before, (string)(await run.QueryAsync(instance, Counts))[0][0]!);
        Assert.Equal(0, (await run.RunAsync("verify")).Exit);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task VerifyFailsWhenAnImportedMessageWasChangedInPostgreSql()
    {
        // Given: a clean import, then one body altered behind the tool's back
        var run = MigrationRun.Generate(fixture, "tamper", 2_000, dirt: 0.02, seed: 5, out _);
        Assert.Equal(0, (await run.RunAsync("import")).Exit);
        var instance = await run.InstanceIdAsync();
        await run.QueryAsync(instance, "UPDATE chat.messages SET body = body || '!' WHERE (session_id, seq) IN (SELECT session_id, seq FROM chat.messages LIMIT 1) RETURNING 1");

        // When
        var (exit, summary) = await run.RunAsync("verify");

        // Then
        Assert.Equal(1, exit);
        Assert.Equal(false, summary.Values["verified"]);
    }

    internal static Dictionary<long, byte[]> ReadLegacyBodies(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, CAST(body AS BLOB) FROM messages WHERE body IS NOT NULL";
        using var reader = command.ExecuteReader();
        var bodies = new Dictionary<long, byte[]>();
        while (reader.Read())
        {
            bodies[reader.GetInt64(0)] = (byte[])reader.GetValue(1);
        }

        return bodies;
    }
}
