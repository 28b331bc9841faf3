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
        var candidate = new MessageResponse(0, clientMessageId, senderDeviceId, request.Text!, DateTimeOffset.UtcNow);
        var numberAbove = await acknowledged.HighestAsync(instance.InstanceId, session, chat.Aborted);
        var written = await chat.Database.WriteAsync(
            instance.InstanceId, (connection, ct) => PostAsync(connection, instance.InstanceId, session, candidate, numberAbove, ct), chat.Aborted);
        var (outcome, message) = chat.Written(written);
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
                await acknowledged.RecordAsync(instance.InstanceId, session, message!.Seq, chat.Aborted);
                await chat.Cache.InvalidateAsync(changed, written.Token, chat.Aborted);
                return TypedResults.Ok(message);
        }

        // Recorded before the client hears of it: every number a client holds is at or below the mark.
        await acknowledged.RecordAsync(instance.InstanceId, session, message!.Seq, chat.Aborted);
        metrics.MessagePosted(instance.InstanceType);
        chat.Activity.Record(instance.InstanceId, session, message!.CreatedAt);
        await chat.Cache.InvalidateAsync(changed, written.Token, chat.Aborted);
        return TypedResults.Created($"/sessions/{session}/messages?after={message.Seq - 1}", message);
    }

    /// <summary>
    /// One transaction; safe to retry: a second run finds the first run's message by its client id. The new number is
    /// above both the session's counter and <paramref name="numberAbove"/> (the highest number ever acknowledged).
    /// </summary>
    private static async Task<(PostOutcome, MessageResponse?)> PostAsync(
        NpgsqlConnection connection, Guid instanceId, Guid sessionId, MessageResponse candidate, long numberAbove, CancellationToken cancellationToken)
    {
        // The session row's lock serialises posts to one session, so sequence numbers have no races, and no gaps
        // except past numbers a lossy failover took back (see AcknowledgedSequences).
        var session = await connection.Command("""
            SELECT s.state, EXISTS (SELECT 1 FROM chat.devices AS d WHERE d.instance_id = $1 AND d.device_id = $3)
              FROM chat.sessions AS s WHERE s.instance_id = $1 AND s.session_id = $2
               FOR UPDATE OF s
            """, instanceId, sessionId, candidate.SenderDeviceId).SingleOrDefaultAsync(r => new { State = r.GetString(0), DeviceExists = r.GetBoolean(1) }, cancellationToken);
        if (session is null)
        {
            return (PostOutcome.SessionNotFound, null);
        }

        var existing = await connection.Command(
            $"SELECT {MessageResponse.Columns} FROM chat.messages WHERE instance_id = $1 AND session_id = $2 AND client_message_id = $3",
            instanceId, sessionId, candidate.ClientMessageId).SingleOrDefaultAsync(MessageResponse.Read, cancellationToken);
        if (existing is not null)
        {
            // A retry carries the same sender and text; anything else reusing the id is answered 409, not as the old message.
            return existing.SenderDeviceId == candidate.SenderDeviceId && existing.Text == candidate.Text
                ? (PostOutcome.Duplicate, existing)
                : (PostOutcome.DifferentContentForSameClientId, existing);
        }

        if (!session.DeviceExists)
        {
            return (PostOutcome.DeviceNotFound, null);
        }

        if (session.State != "active")
        {
            return (PostOutcome.SessionEnded, null);
        }

        var seq = (long)(await connection.Command("""
            WITH numbered AS (
                UPDATE chat.sessions SET message_count = greatest(message_count, $7) + 1, last_message_at = $6
                 WHERE instance_id = $1 AND session_id = $2
             RETURNING message_count)
            INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at)
            SELECT $1, $2, message_count, $3, $4, $5, $6 FROM numbered
            RETURNING seq
            """, instanceId, sessionId, candidate.ClientMessageId, candidate.SenderDeviceId, candidate.Text, candidate.CreatedAt, numberAbove).ScalarAsync(cancellationToken))!;
        return (PostOutcome.Created, candidate with { Seq = seq });
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
        Task<ReadResult<List<MessageResponse>?>> ReadAsync(ConsistencyToken? required, CancellationToken cancellationToken) => chat.Database.ReadAsync(
            instanceId, required, (connection, ct) => ReadPageAsync(connection, instanceId, session, direction, cursor, pageSize, ct), cancellationToken);

        // The newest page at the default size is what every open chat polls: that one is cached.
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

    private static async Task<List<MessageResponse>?> ReadPageAsync(
        NpgsqlConnection connection, Guid instanceId, Guid sessionId, PageDirection direction, MessageCursor? cursor, int pageSize, CancellationToken cancellationToken)
    {
        var sessionExists = await connection.Command(
            "SELECT 1 FROM chat.sessions WHERE instance_id = $1 AND session_id = $2", instanceId, sessionId).ScalarAsync(cancellationToken) is not null;
        if (!sessionExists)
        {
            return null;
        }

        // Two fixed statements (not one built per request), each walking the primary key one way.
        var sql = direction == PageDirection.Backward
            ? $"SELECT {MessageResponse.Columns} FROM chat.messages WHERE instance_id = $1 AND session_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4"
            : $"SELECT {MessageResponse.Columns} FROM chat.messages WHERE instance_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4";
        var bound = cursor?.Seq ?? (direction == PageDirection.Backward ? long.MaxValue : 0);
        return await connection.Command(sql, instanceId, sessionId, bound, pageSize).ListAsync(MessageResponse.Read, cancellationToken);
    }
}
