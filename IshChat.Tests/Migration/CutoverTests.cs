extern alias migrate;

using IshChat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace IshChat.Tests.Migration;

[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // The freeze is a file mode; the tests run on Linux.
public sealed class CutoverTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task CutoverTakesTheLastWritesVerifiesAndLeavesTheLegacyFileReadOnly()
    {
        // Given: an import, then one more message written by the legacy app
        var run = MigrationRun.Generate(fixture, "cutover", 3_000, dirt: 0.02, seed: 31, out var manifest);
        Assert.Equal(0, (await run.RunAsync("import")).Exit);
        var instance = await run.InstanceIdAsync();
        var template = manifest.ValidMessages!.Keys.Min();
        using (var legacy = new SqliteConnection($"Data Source={run.Sqlite};Pooling=False"))
        {
            legacy.Open();
            using var insert = legacy.CreateCommand();
            insert.CommandText = $"INSERT INTO messages (session_id, sender_id, body, created_at) SELECT session_id, sender_id, 'the last word', 1767225600 FROM messages WHERE id = {template}";
            insert.ExecuteNonQuery();
        }

        // When
        var (exit, summary) = await run.RunAsync("cutover");

        // Then: the last message is in, verify passed under the freeze, the file can't be written, the checklist is there
        Assert.Equal(0, exit);
        Assert.Equal("done", summary.Values["cutover"]);
        Assert.Equal(true, summary.Values["verified"]);
        Assert.Equal(1, await run.CountAsync(instance, "SELECT count(*) FROM chat.messages WHERE body = 'the last word'"));
        Assert.Equal(1, await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_imports WHERE frozen_at IS NOT NULL"));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(run.Sqlite) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        Assert.NotEmpty((string[])summary.Values["checklist"]!);
    }
}
