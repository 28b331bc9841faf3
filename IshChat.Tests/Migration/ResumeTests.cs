extern alias migrate;

using System.Diagnostics;
using IshChat.Cluster.Faults;
using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate.Cli;

namespace IshChat.Tests.Migration;

[Collection(MigrationClusterCollection.Name)]
[Trait(TestCategories.Name, MigrationClusterCollection.Category)]
public sealed class ResumeTests(MigrationClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task AnImportKilledMidwayAndRunAgainLeavesNoDuplicateAndNoGap()
    {
        // Given: an import running as its own process, in small chunks
        var run = MigrationRun.Generate(fixture, "killed", 40_000, dirt: 0.02, seed: 13, out var manifest);
        var tool = typeof(Commands).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[tool, .. run.Arguments("import", "--chunk", "1000")])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();

        // When: it is killed (SIGKILL, no clean-up) once some chunks are committed
        var instance = await Eventually(async () => (await run.QueryAsync(null, "SELECT instance_id FROM chat.list_instances(NULL, 1000) WHERE name = $1", run.Instance)).Select(r => (Guid?)r[0]).FirstOrDefault());
        await Eventually(async () => await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_import_chunks WHERE chunk >= 0") > 0 ? true : (bool?)null);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        Assert.Equal(0, await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_imports WHERE finished_at IS NOT NULL"));
        var partial = await run.CountAsync(instance, "SELECT count(*) FROM chat.messages");
        var plan = (Guid[])(await run.QueryAsync(instance, "SELECT chunk_bounds FROM chat.legacy_imports"))[0][0]!;

        // When: the same command runs again, asking for other chunks
        var (exit, summary) = await run.RunAsync("import", "--chunk", "7000");

        // Then: it went on from the checkpoint with the first run's chunks, and the result is exactly the valid rows,
        // each once, numbered without gaps
        Assert.Equal(0, exit);
        Assert.Equal(true, summary.Values["resumed"]);
        Assert.True(partial < manifest.ValidMessages!.Count, "the kill came after the last chunk; nothing was resumed");
        Assert.True(plan.Length > 10, $"{plan.Length} chunks of 1 000 messages for 40 000");
        Assert.Equal(plan, (Guid[])(await run.QueryAsync(instance, "SELECT chunk_bounds FROM chat.legacy_imports"))[0][0]!);
        Assert.Equal(plan.Length + 1, await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_import_chunks WHERE chunk >= 0"));
        await AssertCompleteAsync(run, instance, manifest.ValidMessages.Count, manifest.ExpectedRejects.Count);
    }

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task AFailoverDuringImportLeavesNoDuplicateAndNoGap()
    {
        // Given: an import under way
        var run = MigrationRun.Generate(fixture, "failover", 30_000, dirt: 0.02, seed: 17, out var manifest);
        var import = Task.Run(() => run.RunAsync("import", "--chunk", "1000"));
        var instance = await Eventually(async () => (await run.QueryAsync(null, "SELECT instance_id FROM chat.list_instances(NULL, 1000) WHERE name = $1", run.Instance)).Select(r => (Guid?)r[0]).FirstOrDefault());
        await Eventually(async () => await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_import_chunks WHERE chunk >= 0") > 0 ? true : (bool?)null);

        // When: the leader is killed; the replica takes over (asynchronous replication: the last chunks may be lost)
        var leader = await fixture.Cluster.LeaderAsync();
        await fixture.Cluster.InjectAsync(Fault.Kill, leader);
        (int Exit, migrate::IshChat.Migrate.Output.Summary Summary) result;
        try
        {
            result = await import;
        }
        finally
        {
            // The old leader rejoins as a replica before anything is read, so the checks meet a settled cluster.
            await fixture.Cluster.RepairAsync(Fault.Kill, leader);
            await fixture.Cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        }

        // Then: the import retried, resumed from the new leader's checkpoint and is complete and gapless
        Assert.Equal(0, result.Exit);
        Assert.True((int)result.Summary.Values["retries_after_failures"]! > 0, "the import never noticed the failover");
        await AssertCompleteAsync(run, instance, manifest.ValidMessages!.Count, manifest.ExpectedRejects.Count);
    }

    private static async Task AssertCompleteAsync(MigrationRun run, Guid instance, int validMessages, int rejects)
    {
        Assert.Equal(validMessages, await run.CountAsync(instance, "SELECT count(*) FROM chat.messages"));
        Assert.Equal(rejects, await run.CountAsync(instance, "SELECT count(*) FROM chat.legacy_rejects"));
        Assert.Equal(0, await run.CountAsync(instance, """
            SELECT count(*) FROM chat.sessions s
              LEFT JOIN (SELECT session_id, count(*) AS n, max(seq) AS top FROM chat.messages GROUP BY session_id) c USING (session_id)
             WHERE coalesce(c.n, 0) <> s.message_count OR coalesce(c.top, 0) <> coalesce(c.n, 0)
            """));
        // Chunks of whole sessions: each session's messages came in one transaction, and the transactions' sessions are
        // runs of adjacent session_ids that do not interleave.
        Assert.Equal(0, await run.CountAsync(instance, "SELECT count(*) FROM (SELECT session_id FROM chat.messages GROUP BY session_id HAVING count(DISTINCT xmin::text) > 1) AS split"));
        Assert.Equal(0, await run.CountAsync(instance, """
            WITH written AS (
                SELECT xmin::text AS tx, min(session_id::text COLLATE "C") AS first, max(session_id::text COLLATE "C") AS last
                  FROM chat.messages GROUP BY xmin::text)
            SELECT count(*) FROM written AS a JOIN written AS b ON a.tx <> b.tx AND a.first <= b.last AND b.first <= a.last
            """));
        Assert.Equal(0, (await run.RunAsync("verify")).Exit);
    }

    private static async Task<T> Eventually<T>(Func<Task<T?>> probe) where T : struct
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The import made no visible progress in 90 s.");
    }
}
