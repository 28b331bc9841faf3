extern alias migrate;

using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate;
using migrate::IshChat.Migrate.Cli;
using migrate::IshChat.Migrate.Legacy;
using Microsoft.Data.Sqlite;

namespace IshChat.Tests.Migration;

/// <summary>A missing, corrupt, foreign or locked SQLite file: told as such (exit 2), before anything touches the cluster.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class LegacyFileErrorTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ishchat-legacy-errors-").FullName;

    [Fact]
    public async Task AMissingFileIsNamed()
    {
        var (exit, error) = await PlanAsync(Path.Combine(folder, "nowhere.db"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptFileIsCalledCorruptWithTheCheckToRun()
    {
        var path = Path.Combine(folder, "corrupt.db");
        await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 7))]);
        var (exit, error) = await PlanAsync(path);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("corrupt or not a SQLite database", error, StringComparison.Ordinal);
        Assert.Contains("integrity_check", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASqliteFileOfAnotherAppIsNotALegacyDatabase()
    {
        var path = Path.Combine(folder, "other.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var create = connection.CreateCommand();
            // The right schema version, so that it is the tables that give it away.
            create.CommandText = $"CREATE TABLE invoices (id INTEGER PRIMARY KEY); PRAGMA user_version = {LegacySchema.SupportedVersion}";
            await create.ExecuteNonQueryAsync();
        }

        var (exit, error) = await PlanAsync(path);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("not an ISH Chat legacy database", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALockedFileSaysWhoToStop()
    {
        // Given: a generated legacy file that another process holds an exclusive lock on
        var path = Path.Combine(folder, "locked.db");
        Assert.Equal(ExitCodes.Ok, await CommandLine.RunAsync(["generate", "--out", path, "--messages", "100", "--dirt", "0"], TextWriter.Null, CancellationToken.None));
        await using var holder = new SqliteConnection($"Data Source={path};Pooling=False");
        await holder.OpenAsync();
        await using var lockIt = holder.CreateCommand();
        lockIt.CommandText = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;";
        await lockIt.ExecuteNonQueryAsync();

        // When / Then
        var (exit, error) = await PlanAsync(path);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("is locked by another process", error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private static async Task<(int Exit, string Error)> PlanAsync(string path)
    {
        await using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(["plan", "--sqlite", path], error, CancellationToken.None);
        return (exit, error.ToString());
    }
}
