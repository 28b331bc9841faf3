using System.Globalization;
using System.Net;
using IshChat.Tests.Api;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// pgaudit's lines in the leader's log (the container's output: what the dashboard's console logs show): who did what to
/// which object, and for the API's writes, for which instance.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class AuditLogTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ADdlAGrantAndAnApiWriteAreAuditedWithWhoWhatAndTheInstance()
    {
        // Given the leader's container, and the time before anything happens
        var since = DateTimeOffset.UtcNow.AddSeconds(-2).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var leader = (await fixture.PatroniClusterAsync(default)).Leader?.Name ?? throw new InvalidOperationException("No leader");
        var container = await fixture.ContainerIdAsync(leader);
        var schema = $"audit_{Guid.NewGuid():N}"[..18];
        var table = $"{schema}.probe";

        // When the migrator creates a table and grants on it, and a tenant posts a message through the API
        await using (var migrator = new NpgsqlConnection(await fixture.MigratorConnectionStringAsync()))
        {
            await migrator.OpenAsync();
            // A schema of its own: nobody may create in public (PostgreSQL 15+).
            await using var ddl = new NpgsqlCommand(
                $"CREATE SCHEMA {schema}; CREATE TABLE {table} (id int); GRANT SELECT ON {table} TO {ClusterRoles.App}; DROP SCHEMA {schema} CASCADE", migrator);
            await ddl.ExecuteNonQueryAsync();
        }

        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        using (var posted = await api.PostMessageAsync(instance, session, device, "audited"))
        {
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
        }

        // Then the leader's log has each, with the role, the statement class and the object (and the instance for the API)
        var lines = await Eventually.GetAsync(
            async ct => (await DockerCli.ExecuteAsync(["logs", "--since", since, container], cancellationToken: ct)).Output,
            output => output.Any(l => l.Contains("WRITE,INSERT,TABLE,chat.messages", StringComparison.Ordinal)
                && l.Contains($"instance={instance.InstanceId}", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the API's audited INSERT in the leader's log");
        Assert.Contains(lines, l => l.Contains($"user={ClusterRoles.Migrator}", StringComparison.Ordinal)
            && l.Contains("AUDIT: SESSION,", StringComparison.Ordinal) && l.Contains($",DDL,CREATE TABLE,TABLE,{table},", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"user={ClusterRoles.Migrator}", StringComparison.Ordinal)
            && l.Contains(",ROLE,GRANT,", StringComparison.Ordinal) && l.Contains(table, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"user={ClusterRoles.App}", StringComparison.Ordinal)
            && l.Contains($"app=ishchat-api instance={instance.InstanceId}", StringComparison.Ordinal)
            && l.Contains("WRITE,INSERT,TABLE,chat.messages", StringComparison.Ordinal));
        // And the message's text is not in the log (parameters are never logged)
        Assert.DoesNotContain(lines, l => l.Contains("audited", StringComparison.Ordinal));
    }
}
