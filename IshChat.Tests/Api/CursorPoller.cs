using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Messages;

namespace IshChat.Tests.Api;

/// <summary>
/// A client that follows a conversation the way a chat app does: it polls <c>after=&lt;its last cursor&gt;</c> with the
/// newest consistency token it knows and keeps the next cursor the API hands back. Whatever is stored but was never on
/// one of its pages was skipped by its cursor (a number handed out below one it already had).
/// </summary>
public sealed class CursorPoller(ChatApiClient api, TestInstance instance, Guid session, SequenceLedger ledger, LongestPause readPause)
{
    private const int PageSize = 200;

    private readonly HashSet<Guid> seen = [];
    private string cursor = "0";

    public IReadOnlySet<Guid> Seen => seen;

    /// <summary>One poll; returns how many messages it brought, or throws what a client would see as an error.</summary>
    public async Task<int> PollAsync(string? token)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}/messages?after={cursor}&limit={PageSize}", instance.ApiKey, token: token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"poll {(int)response.StatusCode}", null, response.StatusCode);
        }

        var page = (await response.Content.ReadFromJsonAsync<MessagePage>())!;
        foreach (var message in page.Items)
        {
            ledger.Saw(message.Seq, message.ClientMessageId);
            seen.Add(message.ClientMessageId);
        }

        cursor = page.NextCursor ?? cursor;
        readPause.Success();
        return page.Items.Count;
    }

    /// <summary>After the load: polls until a page comes back short, so everything stored by then was offered to it.</summary>
    public async Task CatchUpAsync(string? token)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                if (await PollAsync(token) < PageSize)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // The system is whole again by now; a straggling error is retried, not judged.
                await Task.Delay(500);
            }
        }
    }
}
