extern alias migrate;

using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate;
using migrate::IshChat.Migrate.Cli;
using Npgsql;

namespace IshChat.Tests.Migration;

/// <summary>
/// What a user sees when the run can't go on: one sentence on standard error naming the cause and the fix, the exit
/// status a script can tell apart, and nothing lost (run the command again once the cause is gone).
/// </summary>
[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class ErrorTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AWrongPasswordIsRefusedWithTheFixAndNothingIsWritten()
    {
        // Given: a connection string whose password is wrong
        var run = MigrationRun.Generate(fixture, "wrong-password", 200, dirt: 0, seed: 41, out _);
        var wrong = new NpgsqlConnectionStringBuilder(fixture.LeaderConnectionString(ClusterRoles.Admin)) { Password = "not-the-password" }.ConnectionString;
        var arguments = run.Arguments("import");
        arguments[Array.IndexOf(arguments, "--connection") + 1] = wrong;

        // When: importing
        var (exit, error) = await RunCommandLineAsync(arguments);

        // Then: a login failure, said as one, and no instance created
        Assert.Equal(ExitCodes.Database, exit);
        Assert.Contains("refused the login", error, StringComparison.Ordinal);
        Assert.Contains("--connection", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(fixture.LeaderConnectionString(ClusterRoles.Admin));
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM chat.list_instances(NULL, 1000) WHERE name = $1", connection) { Parameters = { new() { Value = run.Instance } } };
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AFullDiskForTheRejectReportFailsWithExitFourAndARerunCompletesIt()
    {
        // Given: a dirty file whose reject report goes to /dev/full (every write: ENOSPC, a real full disk)
        var run = MigrationRun.Generate(fixture, "disk-full", 500, dirt: 0.05, seed: 42, out var manifest);
        var arguments = run.Arguments("import");
        arguments[Array.IndexOf(arguments, "--rejects") + 1] = "/dev/full";

        // When: importing
        var (exit, error) = await RunCommandLineAsync(arguments);

        // Then: the disk-full status and message ...
        Assert.Equal(ExitCodes.DiskFull, exit);
        Assert.Contains("disk is full", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        // ... and nothing is lost: the same import again, with room for its report, finishes and verifies
        var (again, againError) = await RunCommandLineAsync(run.Arguments("import"));
        Assert.True(again == ExitCodes.Ok, againError);
        Assert.Equal(manifest.ExpectedRejects.Count, File.ReadLines(run.RejectsPath).Count());
        var (verified, verifyError) = await RunCommandLineAsync(run.Arguments("verify"));
        Assert.True(verified == ExitCodes.Ok, verifyError);
    }

    private static async Task<(int Exit, string Error)> RunCommandLineAsync(string[] arguments)
    {
        await using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(arguments, error, CancellationToken.None);
        return (exit, error.ToString());
    }
}
