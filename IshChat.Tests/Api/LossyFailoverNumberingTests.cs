using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Messages;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.Api;

/// <summary>Message numbers and "since" cursors after an asynchronous failover that lost an acknowledged commit.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class LossyFailoverNumberingTests(AppHostClusterFixture fixture)
{
    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ClientPollingAfterItsCursorSeesMessagesPostedAfterTheLastAcknowledgedOneWasLost()
    {
        // Given three acknowledged messages, and a client whose cursor is past all three
        var (http, adminKey) = await fixture.ChatApiAsync();
        var api = new ChatApiClient(http, adminKey);
        var (instance, device, session) = await api.CreateConversationAsync();
        var token = "";
        foreach (var text in new[] { "one", "two", "three" })
        {
            using var posted = await api.PostMessageAsync(instance, session, device, text);
            await ChatApiClient.EnsureAsync(posted, HttpStatusCode.Created);
            token = ChatApiClient.TokenOf(posted);
        }

        var (before, _) = await api.ListMessagesAsync(instance, session, "?after=0", token);
        var cursor = before.NextCursor!;
        Assert.Equal("3", cursor);

        // When the primary's database goes back to before the third commit, as a lossy asynchronous failover leaves it
        await LoseLastCommitAsync(instance.InstanceId, session);

        // and a participant posts again
        using var afterLoss = await api.PostMessageAsync(instance, session, device, "four");
        await ChatApiClient.EnsureAsync(afterLoss, HttpStatusCode.Created);
        var four = (await afterLoss.Content.ReadFromJsonAsync<MessageResponse>())!;

        // Then the new message is numbered past every number clients were given, so the client's poll finds it
        var (since, _) = await api.ListMessagesAsync(instance, session, $"?after={cursor}", ChatApiClient.TokenOf(afterLoss));
        Assert.True(four.Seq > 3, $"the message after the loss got number {four.Seq}, already acknowledged as 'three'");
        Assert.Equal("four", Assert.Single(since.Items).Text);
    }

    private async Task LoseLastCommitAsync(Guid instanceId, Guid session)
    {
        var leader = (await Eventually.GetAsync(fixture.PatroniClusterAsync, s => s.Leader is not null, TimeSpan.FromMinutes(1), "a leader")).Leader!.Name;
        await using var connection = new NpgsqlConnection(await fixture.SuperuserConnectionStringAsync(leader));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH lost AS (
                DELETE FROM chat.messages WHERE instance_id = $1 AND session_id = $2
                   AND seq = (SELECT max(seq) FROM chat.messages WHERE instance_id = $1 AND session_id = $2)
             RETURNING seq)
            UPDATE chat.sessions SET message_count = (SELECT seq - 1 FROM lost) WHERE instance_id = $1 AND session_id = $2
            """, connection)
        {
            Parameters = { new() { Value = instanceId }, new() { Value = session } },
        };
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
