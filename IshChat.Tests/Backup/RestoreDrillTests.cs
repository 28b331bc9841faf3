using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using IshChat.Cluster.Backup;
using IshChat.Cluster.Testcontainers;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// The automated restore drill, on the shared backup cluster: it must pass when the backups are sound, with the live
/// cluster's row counts per instance, and fail loudly, in its result and in the metric the alert watches, when the
/// archive misses a WAL segment the restore needs.
/// </summary>
[Collection(BackupClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class RestoreDrillTests(BackupClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan drillTimeout = TimeSpan.FromMinutes(4);

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task AHealthyDrillRestoresTheTargetWithTheLiveRowCountsPerInstance()
    {
        // Given rows of three instances in a table with instance_id, and rows in one without
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        var leader = await cluster.LeaderAsync();
        var table = $"drill_{Guid.NewGuid():N}"[..16];
        var instances = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        await ExecuteAsync(cluster, leader, $"""
            CREATE TABLE {table} (instance_id uuid NOT NULL, body text NOT NULL);
            INSERT INTO {table} SELECT '{instances[0]}', 'a' FROM generate_series(1, 30);
            INSERT INTO {table} SELECT '{instances[1]}', 'b' FROM generate_series(1, 7);
            INSERT INTO {table} SELECT '{instances[2]}', 'c' FROM generate_series(1, 1);
            CREATE INDEX ON {table} (instance_id);
            CREATE TABLE {table}_log (line text);
            INSERT INTO {table}_log SELECT 'x' FROM generate_series(1, 12);
            """);

        // When the drill runs
        var drill = await cluster.RestoreDrillAsync(drillTimeout);
        var result = await drill.RunAsync();

        // Then it passed, reached its restore point exactly, and counted what the live cluster holds
        output.WriteLine(result.ToString());
        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(0, result.RecoveryGapBytes);
        Assert.InRange(result.RestoreDuration!.Value, TimeSpan.FromMilliseconds(1), drillTimeout);
        var counts = result.Target!.RowCounts;
        Assert.Equal(30, counts[$"{table} {instances[0]}"]);
        Assert.Equal(7, counts[$"{table} {instances[1]}"]);
        Assert.Equal(1, counts[$"{table} {instances[2]}"]);
        Assert.Equal(12, counts[$"{table}_log -"]);
        var metrics = RestoreDrillMetrics.Render(result, result.Finished);
        Assert.Contains($"ishchat_restore_drill_success{{stanza=\"{cluster.Stanza}\"}} 1", metrics, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task ADrillWhoseWalSegmentIsMissingFailsAndExportsTheFailure()
    {
        // Given a drill target whose WAL segment is then missing from the archive
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        var leader = await cluster.LeaderAsync();
        var drill = await cluster.RestoreDrillAsync(drillTimeout);
        var target = await drill.MarkTargetAsync();
        var segment = await ScalarAsync<string>(cluster, leader, $"SELECT pg_walfile_name('{target.Lsn}')");
        RestoreDrillResult result;
        await using (await cluster.WithholdArchivedSegmentAsync(leader, segment))
        {
            // When the drill restores it
            result = await drill.RestoreAndVerifyAsync(target);
        }

        // Then it failed, saying where, and node_exporter serves the failure the alert fires on
        output.WriteLine(result.ToString());
        Assert.False(result.Succeeded);
        Assert.Contains("restore did not pass its checks", result.Failure, StringComparison.Ordinal);
        var directory = Directory.CreateTempSubdirectory("ishchat-drill-metrics-");
        // Made 0700; node_exporter reads it as its own user, as it reads the app host's 0755 directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        try
        {
            new RestoreDrillMetrics(directory.FullName).Record(result);
            var scraped = await ScrapeThroughNodeExporterAsync(directory.FullName);
            Assert.Contains($"ishchat_restore_drill_success{{stanza=\"{cluster.Stanza}\"}} 0", scraped, StringComparison.Ordinal);
            Assert.DoesNotContain("ishchat_restore_drill_last_success_timestamp_seconds", scraped, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The metrics as Prometheus gets them: node_exporter's textfile collector reading the drill's file.</summary>
    private static async Task<string> ScrapeThroughNodeExporterAsync(string textfileDirectory)
    {
        await using var exporter = new ContainerBuilder(ClusterImages.NodeExporter.Reference(RepositoryLayout.Current))
            .WithBindMount(textfileDirectory, MonitoringEnvironment.NodeExporterTextfileDirectory, AccessMode.ReadOnly)
            .WithPortBinding(ClusterPorts.NodeExporter, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(ClusterPorts.NodeExporter).ForPath("/metrics")))
            .Build();
        await exporter.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{exporter.GetMappedPublicPort(ClusterPorts.NodeExporter)}/metrics"));
    }

    private static async Task ExecuteAsync(PatroniTestCluster cluster, TestClusterNode node, string sql)
    {
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(node, ClusterRoles.Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(PatroniTestCluster cluster, TestClusterNode node, string sql)
    {
        await using var connection = new NpgsqlConnection(cluster.NodeConnectionString(node, ClusterRoles.Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
