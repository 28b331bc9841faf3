using IshChat.Cluster.Backup;
using IshChat.Cluster.InstanceRestore;
using IshChat.MigrationService;
using IshChat.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.Backup;

/// <summary>
/// "Restore instance A to 14:03": A's messages deleted by mistake come back from a side restore of the repository,
/// with their ids and seq, while instance B keeps everything written after 14:03, and the report says exactly what
/// was put back, kept and skipped.
/// </summary>
[Collection(BackupClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class InstanceRestoreTests(BackupClusterFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = TestTimeouts.Backup)]
    public async Task RestoringOneInstanceBringsBackItsDeletedMessagesAndLeavesTheOtherInstanceAsItIs()
    {
        // Given the chat schema and two instances with one session of 10 messages each
        var cluster = fixture.Cluster;
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(2));
        if (!await new SchemaMigrator(BackupSql.LeaderConnectionString(cluster, ClusterRoles.Migrator), fixture.Logger).MigrateAsync(CancellationToken.None))
        {
            throw new InvalidOperationException("The chat schema could not be applied; see the log.");
        }

        // The admin role: it may create instances and put back API keys (the tenant role may not), and inherits the
        // tenant role's row-level security, so every write stays inside the instance it is scoped to.
        var app = BackupSql.LeaderConnectionString(cluster, ClusterRoles.Admin);
        var (a, b) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await SeedAsync(app, a);
        await SeedAsync(app, b);
        var target = await BackupSql.ScalarAsync<DateTime>(app, "SELECT clock_timestamp()");
        await Task.Delay(200);

        // And after T: A loses messages 3–7 by mistake, gets message 11, and message 12 reuses message 7's client id
        // (a retried post); B loses message 1 on purpose and gets messages 11–15
        await AsInstanceAsync(app, a, """
            DELETE FROM chat.messages WHERE seq BETWEEN 3 AND 7;
            INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
            SELECT instance_id, session_id, 11, gen_random_uuid(), device_id, 'after T' FROM chat.sessions;
            INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
            SELECT s.instance_id, s.session_id, 12, md5(s.instance_id::text || '7')::uuid, s.device_id, 'retried 7' FROM chat.sessions s;
            UPDATE chat.sessions SET message_count = 12;
            """);
        await AsInstanceAsync(app, b, """
            DELETE FROM chat.messages WHERE seq = 1;
            INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
            SELECT instance_id, session_id, g, gen_random_uuid(), device_id, 'B after T' FROM chat.sessions, generate_series(11, 15) g;
            UPDATE chat.sessions SET message_count = 15;
            """);
        var leader = await cluster.LeaderAsync();
        // The archive must reach past T: a restore only stops at T once it has seen a commit after it.
        await cluster.CheckArchiveAsync(leader);

        // When instance A alone is restored to T (changed rows kept, the default)
        var progress = new List<string>();
        var report = await InstanceRestorer.RestoreAsync(leader.ContainerId, app, a, RestoreTarget.At(target), overwrite: false, dryRun: false,
            TimeSpan.FromMinutes(4), new ListProgress(progress, output), fixture.Logger);
        output.WriteLine(report.ToString());

        // Then A's deleted messages 3–6 are back with their original ids and bodies; 7 is skipped (its client id is taken
        // by 12), 11 and 12 stay; the session keeps its live counter; and the report counts exactly that
        Assert.Equal("1,2,3,4,5,6,8,9,10,11,12", await SeqsAsync(app, a));
        Assert.Equal(4L, await AsInstanceScalarAsync<long>(app, a, "SELECT count(*) FROM chat.messages WHERE seq BETWEEN 3 AND 6 AND body = 'message ' || seq AND client_message_id = md5(instance_id::text || seq)::uuid"));
        Assert.Equal(12L, await AsInstanceScalarAsync<long>(app, a, "SELECT message_count FROM chat.sessions"));
        var messages = report.Table("chat.messages");
        Assert.Equal((10L, 7L, 4L, 5L, 0L, 2L, 1L), (messages.AtTarget, messages.Live!.Value, messages.Reinserted, messages.Unchanged, messages.ChangedSinceTarget, messages.CreatedAfterTarget, messages.Conflicts));
        Assert.Single(messages.ConflictKeys, k => k.EndsWith("/7", StringComparison.Ordinal));
        Assert.Equal(1L, report.Table("chat.sessions").ChangedSinceTarget);
        Assert.Equal(0L, report.Table("chat.sessions").Overwritten);
        Assert.Contains("changed since the target (kept live", report.ToString(), StringComparison.Ordinal);
        // And B is exactly as it was after T: message 1 still gone, 11–15 still there
        Assert.Equal("2,3,4,5,6,7,8,9,10,11,12,13,14,15", await SeqsAsync(app, b));
        // And the long steps showed their progress
        Assert.Contains(progress, p => p.StartsWith(SideRestoreProgress.RestoringFiles, StringComparison.Ordinal) && p.Contains('%', StringComparison.Ordinal));
        Assert.Contains(progress, p => p.StartsWith("chat.messages:", StringComparison.Ordinal));
        Assert.Empty(await DockerCli.RunAsync(["ps", "-aq", "--filter", $"label={SideRestore.Label}", "--filter", $"network={cluster.Network.Name}"]));
    }

    private static async Task SeedAsync(string app, Guid instance) => await AsInstanceAsync(app, instance, $"""
        INSERT INTO chat.instances (instance_id, name, instance_type) VALUES ('{instance}', 'restore test', 'standard');
        INSERT INTO chat.devices (instance_id, device_id, name) VALUES ('{instance}', gen_random_uuid(), 'phone');
        INSERT INTO chat.sessions (instance_id, session_id, device_id, message_count) SELECT instance_id, gen_random_uuid(), device_id, 10 FROM chat.devices;
        INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body)
        SELECT instance_id, session_id, g, md5(instance_id::text || g)::uuid, device_id, 'message ' || g FROM chat.sessions, generate_series(1, 10) g;
        """);

    private static Task AsInstanceAsync(string app, Guid instance, string sql) =>
        BackupSql.ExecuteAsync(app, $"BEGIN; SELECT set_config('ishchat.instance_id', '{instance}', true); {sql} COMMIT;");

    private static async Task<T> AsInstanceScalarAsync<T>(string app, Guid instance, string sql)
    {
        await using var connection = new NpgsqlConnection(app);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var scope = new NpgsqlCommand($"SELECT set_config('ishchat.instance_id', '{instance}', true)", connection, transaction);
        await scope.ExecuteNonQueryAsync();
        await using var query = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await query.ExecuteScalarAsync())!;
    }

    private static Task<string> SeqsAsync(string app, Guid instance) =>
        AsInstanceScalarAsync<string>(app, instance, "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM chat.messages");

    private sealed class ListProgress(List<string> lines, ITestOutputHelper output) : IProgress<string>
    {
        public void Report(string value)
        {
            lines.Add(value);
            output.WriteLine(value);
        }
    }
}
