using System.Globalization;
using IshChat.Api.Auth;
using IshChat.Api.Caching;
using IshChat.Api.Data;
using IshChat.Api.Diagnostics;
using IshChat.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace IshChat.Api.Messages;

/// <summary>Messages of a session: post (idempotent by client message id) and page through them.</summary>
public static class MessagesApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    public static RouteGroupBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sessions/{sessionId}/messages").WithTags("Messages").AddEndpointFilter<InstanceKeyFilter>();
        group.MapPost("/", PostMessageAsync);
        group.MapGet("/", ListMessagesAsync);
        return group;
    }

    private static async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ValidationProblem>> PostMessageAsync(
        string sessionId, PostMessageRequest request, [AsParameters] ChatRequest chat, ApiMetrics metrics, AcknowledgedSequences acknowledged)
    {
        var errors = new RequestErrors();
        var session = errors.Id("sessionId", sessionId);
        var clientMessageId = errors.Id("clientMessageId", request.ClientMessageId);
        var senderDeviceId = errors.Id("senderDeviceId", request.SenderDeviceId);
        errors.AddIf("text", TextRules.CheckMessage(request.Text));
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instance = chat.Instance;
        var numberAbove = await acknowledged.HighestAsync(instance.InstanceId, session, chat.Aborted);
        var createdAt = DateTimeOffset.UtcNow;
        var written = await chat.Database.WriteBatchAsync(instance, batch =>
        {
            batch.BatchCommands.Add(Sql.BatchCommand(
                "SELECT outcome, message_seq, message_client_id, message_sender_id, message_body, message_created_at FROM chat.post_message($1, $2, $3, $4, $5, $6, $7)",
                instance.InstanceId, session, clientMessageId, senderDeviceId, request.Text, createdAt, numberAbove));
            // The newest page as this transaction leaves it (the session's lock keeps other posts out until the commit): the
            // cache's copy, so the poster's read-back is a hit.
            batch.BatchCommands.Add(Sql.BatchCommand(NewestFirstSql, instance.InstanceId, session, long.MaxValue, DefaultPageSize));
        }, ReadPostAsync, chat.Aborted, afterCommit: (
            // Read after the token: a post to the session that committed before the token was read (so the token is past
            // its commit) shows in the counter, and then the page above is not exact at the token.
            batch => batch.BatchCommands.Add(Sql.BatchCommand("SELECT message_count FROM chat.sessions WHERE instance_id = $1 AND session_id = $2", instance.InstanceId, session)),
            async (reader, post, ct) => await reader.ReadAsync(ct) && post.Item2 is { } posted && reader.GetInt64(0) == posted.Seq ? post : post with { Item3 = null }));
        var (outcome, message, newestPage) = chat.Written(written);
        string[] changed = [CacheKeys.Session(instance.InstanceId, session), CacheKeys.LatestMessages(instance.InstanceId, session)];

        switch (outcome)
        {
            case PostOutcome.SessionNotFound:
                return Problems.NotFound("No such session in this instance.");
            case PostOutcome.DeviceNotFound:
                return Problems.NotFound("No such sender device in this instance.");
            case PostOutcome.SessionEnded:
                return Problems.Conflict("The session has ended; it takes no more messages.");
            case PostOutcome.DifferentContentForSameClientId:
                return Problems.Conflict("This clientMessageId was already used for a message with another sender or text.");
            case PostOutcome.Duplicate:
                // A retry of a post that already succeeded: the same message, not a second one. Its first attempt may have
                // committed without reaching the invalidation below (a lost response), so invalidate now: this retry's
                // token is at or past the first attempt's commit.
                await chat.Cache.InvalidateAsync(changed, written.Token, chat.Aborted, AcknowledgedSequences.Acknowledged(instance.InstanceId, session, message!.Seq));
                return TypedResults.Ok(message);
        }

        // The acknowledged number is recorded before the client hears of it (every number a client holds is at or below the
        // mark), in the same Redis call as the newest-write markers. The newest page, when it is exact at the token,
        // replaces the cached one, so the poster's read-back is a hit.
        metrics.MessagePosted(instance.InstanceType);
        chat.Activity.Record(instance.InstanceId, session, message!.CreatedAt);
        var acknowledgedNow = AcknowledgedSequences.Acknowledged(instance.InstanceId, session, message.Seq);
        await (newestPage is null
            ? chat.Cache.InvalidateAsync(changed, written.Token, chat.Aborted, acknowledgedNow)
            : chat.Cache.ReplaceAsync(changed[1], newestPage, [changed[0]], written.Token, chat.Aborted, acknowledgedNow));
        return TypedResults.Created($"/sessions/{session}/messages?after={message.Seq - 1}", message);
    }

    // Keyset pages, each walking the primary key one way: fixed statements (prepared once), not built per request.
    private const string NewestFirstSql =
        $"SELECT {MessageResponse.Columns} FROM chat.messages WHERE instance_id = $1 AND session_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4";

    private const string OldestFirstSql =
        $"SELECT {MessageResponse.Columns} FROM chat.messages WHERE instance_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4";

    /// <summary>chat.post_message's row (migration 0005: lock, duplicate check, numbering and insert in one statement), then the newest page.</summary>
    private static async Task<(PostOutcome, MessageResponse?, List<MessageResponse>?)> ReadPostAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        await reader.ReadAsync(cancellationToken);
        var outcome = reader.GetString(0) switch
        {
            "created" => PostOutcome.Created,
            "duplicate" => PostOutcome.Duplicate,
            "different-content" => PostOutcome.DifferentContentForSameClientId,
            "session-not-found" => PostOutcome.SessionNotFound,
            "device-not-found" => PostOutcome.DeviceNotFound,
            "session-ended" => PostOutcome.SessionEnded,
            var other => throw new InvalidOperationException($"chat.post_message answered '{other}'."),
        };
        var message = reader.IsDBNull(1)
            ? null
            : new MessageResponse(reader.GetInt64(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5));
        await reader.NextResultAsync(cancellationToken);
        return (outcome, message, await reader.ListAsync(MessageResponse.Read, cancellationToken));
    }

    private static async Task<Results<Ok<MessagePage>, NotFound<ProblemDetails>, ValidationProblem>> ListMessagesAsync(
        string sessionId, string? before, string? after, string? limit, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        var session = errors.Id("sessionId", sessionId);
        var pageSize = errors.Limit(limit, DefaultPageSize, MaxPageSize);
        var token = errors.Token(chat.Http);
        MessageCursor? cursor = null;
        if (before is not null && after is not null)
        {
            errors.Add("before", "Give before or after, not both.");
        }
        else if ((before ?? after) is { } text)
        {
            if (MessageCursor.TryParse(text, out var parsed))
            {
                cursor = parsed;
            }
            else
            {
                errors.Add(before is null ? "after" : "before", "Must be a cursor this API returned (a message's sequence number).");
            }
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var direction = after is null ? PageDirection.Backward : PageDirection.Forward;
        var instanceId = chat.Instance.InstanceId;
        var bound = cursor?.Seq ?? (direction == PageDirection.Backward ? long.MaxValue : 0);
        Task<ReadResult<List<MessageResponse>?>> ReadAsync(ConsistencyToken? required, CancellationToken cancellationToken) => chat.Database.ReadBatchAsync(
            chat.Instance, required, batch =>
            {
                batch.BatchCommands.Add(Sql.BatchCommand("SELECT 1 FROM chat.sessions WHERE instance_id = $1 AND session_id = $2", instanceId, session));
                batch.BatchCommands.Add(Sql.BatchCommand(direction == PageDirection.Backward ? NewestFirstSql : OldestFirstSql, instanceId, session, bound, pageSize));
            }, ReadPageAsync, cancellationToken);

        // The newest page at the default size is what every open chat polls: that one is cached (and refilled by each post).
        var isLatestPage = direction == PageDirection.Backward && cursor is null && pageSize == DefaultPageSize;
        var items = chat.Read(isLatestPage
            ? await chat.Cache.GetOrReadAsync(CacheKeys.LatestMessages(instanceId, session), token, ReadAsync, chat.Aborted)
            : await ReadAsync(token, chat.Aborted));

        if (items is null)
        {
            return Problems.NotFound("No such session in this instance.");
        }

        // Forward pages always hand back a cursor: it is where the next "since" poll starts.
        var next = direction == PageDirection.Forward
            ? (items.Count > 0 ? items[^1].Seq.ToString(CultureInfo.InvariantCulture) : cursor?.ToString() ?? "0")
            : items.Count == pageSize ? items[^1].Seq.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new MessagePage(items, next));
    }

    /// <summary>The session's existence, then the page: null when there is no such session.</summary>
    private static async Task<List<MessageResponse>?> ReadPageAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var sessionExists = await reader.ReadAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        return sessionExists ? await reader.ListAsync(MessageResponse.Read, cancellationToken) : null;
    }
}
