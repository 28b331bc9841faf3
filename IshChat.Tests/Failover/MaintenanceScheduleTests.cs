using IshChat.Cluster.Testcontainers;
using IshChat.MigrationService;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Failover;

/// <summary>
/// The scheduled maintenance (pg_cron, docs/operations.md): its jobs are there on the leader, they run, and after a
/// change of leader they run on the new one. Real runs of the real jobs, on a schedule shortened for the test.
/// </summary>
[Collection(FailoverClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class MaintenanceScheduleTests(FailoverClusterFixture fixture, ITestOutputHelper output)
{
    private const string WeeklyVacuum = "ishchat-weekly-vacuum-analyze";
    private const string MonthlyReindex = "ishchat-monthly-reindex";
    private static readonly TimeSpan settle = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Failover)]
    public async Task MaintenanceJobsRunOnTheLeaderAndFollowItAfterASwitchover()
    {
        // Given a healthy cluster with the chat schema, whose indexes the monthly job rebuilds
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(settle);
        Assert.True(await new SchemaMigrator(cluster.LeaderConnectionString(ClusterRoles.Migrator), fixture.Logger).MigrateAsync(default), "the chat schema could not be applied");

        // Then the leader holds both jobs, in the application database, on their weekly and monthly schedules
        var schedules = await QueryAsync(cluster, "SELECT jobname, schedule || ' ' || database || ' ' || active FROM cron.job ORDER BY jobname");
        output.WriteLine(string.Join(Environment.NewLine, schedules.Select(j => $"{j.Key}: {j.Value}")));
        Assert.Equal($"30 3 1 * * {ClusterRoles.Database} true", schedules[MonthlyReindex]);
        Assert.Equal($"0 3 * * 0 {ClusterRoles.Database} true", schedules[WeeklyVacuum]);

        try
        {
            // When they are due every few seconds instead
            await QueryAsync(cluster, $"SELECT jobname, cron.alter_job(jobid, schedule => '3 seconds')::text FROM cron.job WHERE jobname IN ('{WeeklyVacuum}', '{MonthlyReindex}')");

            // Then both succeed, run by the leader's scheduler (a replica could not even record a run)
            var before = await WaitForSuccessfulRunsSinceAsync(cluster, DateTime.UtcNow, "the first leader");

            // And when leadership moves
            var oldLeader = await cluster.LeaderAsync();
            await cluster.Rest.SwitchoverAsync(cluster.RestUrl(oldLeader), oldLeader.Name, candidate: null);
            var after = await cluster.WaitForAsync(s => s.Leader is { } l && l.Name != oldLeader.Name, settle, "a new leader");
            await ClusterProbes.TimeUntilWritableAsync(cluster, TimeSpan.FromSeconds(60));

            // Then the new leader runs the same jobs, without anyone scheduling them again
            var since = DateTime.UtcNow;
            var runs = await WaitForSuccessfulRunsSinceAsync(cluster, since, $"the new leader {after.Leader!.Name}");
            output.WriteLine($"Before the switchover: {Describe(before)}; on {after.Leader!.Name} after it: {Describe(runs)}");
        }
        finally
        {
            // The shared cluster keeps its real schedules for the tests after this one.
            await QueryAsync(cluster, $"""
                SELECT jobname, cron.alter_job(jobid, schedule => CASE jobname WHEN '{WeeklyVacuum}' THEN '0 3 * * 0' ELSE '30 3 1 * *' END)::text
                  FROM cron.job WHERE jobname IN ('{WeeklyVacuum}', '{MonthlyReindex}')
                """);
            await cluster.WaitForHealthyAsync(settle);
        }
    }

    /// <summary>Waits for a succeeded run of each job that started after <paramref name="since"/>; fails on a failed one.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> WaitForSuccessfulRunsSinceAsync(PatroniTestCluster cluster, DateTime since, string where) =>
        await Eventually.GetAsync(async ct =>
        {
            var runs = await QueryAsync(cluster, $"""
                SELECT j.jobname, string_agg(DISTINCT d.status || CASE WHEN d.status = 'failed' THEN ': ' || d.return_message ELSE '' END, ', ')
                  FROM cron.job j JOIN cron.job_run_details d USING (jobid)
                 WHERE d.start_time > '{since:O}'::timestamptz AND d.status IN ('succeeded', 'failed')
                 GROUP BY j.jobname
                """, ct);
            var failed = runs.FirstOrDefault(r => r.Value.Contains("failed", StringComparison.Ordinal));
            return failed.Key is null ? runs : throw new InvalidOperationException($"{failed.Key} failed on {where}: {failed.Value}");
        }, runs => runs.ContainsKey(WeeklyVacuum) && runs.ContainsKey(MonthlyReindex), settle, $"both maintenance jobs succeeding on {where}");

    private static string Describe(IReadOnlyDictionary<string, string> runs) => string.Join(", ", runs.Select(r => $"{r.Key} {r.Value}"));

    /// <summary>Two text columns from the leader, as the superuser (pg_cron's tables are the superuser's).</summary>
    private static async Task<IReadOnlyDictionary<string, string>> QueryAsync(PatroniTestCluster cluster, string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(cluster.LeaderConnectionString(ClusterRoles.Superuser));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        }

        return rows;
    }
}
