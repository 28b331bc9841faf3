using IshChat.Api.Auth;
using IshChat.Api.Caching;
using IshChat.Api.Data;
using IshChat.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace IshChat.Api.Sessions;

/// <summary>Chat sessions of the caller's instance: start, end, list the active ones, get one with its counters.</summary>
public static class SessionsApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sessions").WithTags("Sessions").AddEndpointFilter<InstanceKeyFilter>();
        group.MapPost("/", StartSessionAsync);
        group.MapGet("/", ListActiveSessionsAsync);
        group.MapGet("/{sessionId}", GetSessionAsync);
        group.MapPost("/{sessionId}/end", EndSessionAsync);
        return group;
    }

    private static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ValidationProblem>> StartSessionAsync(
        StartSessionRequest request, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        var deviceId = errors.Id("deviceId", request.DeviceId);
        var idempotencyKey = IdempotencyKey.Read(chat.Http, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        var now = DateTimeOffset.UtcNow;
        var sessionId = idempotencyKey is null ? Guid.CreateVersion7() : IdempotencyKey.DeriveId(instanceId, "session", idempotencyKey);
        var session = new SessionResponse(sessionId, deviceId, "active", now, null, 0, null, now);
        var written = await chat.Database.WriteAsync(instanceId, async (connection, ct) =>
        {
            var deviceExists = await connection.Command(
                "SELECT 1 FROM chat.devices WHERE instance_id = $1 AND device_id = $2", instanceId, deviceId).ScalarAsync(ct) is not null;
            if (!deviceExists)
            {
                return (false, false, (SessionResponse?)null);
            }

            var rows = await connection.Command(
                "INSERT INTO chat.sessions (instance_id, session_id, device_id, started_at, last_activity_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
                instanceId, session.SessionId, deviceId, now).ExecuteAsync(ct);
            return (true, rows == 1, rows == 1 ? session : await connection
                .Command($"SELECT {SessionResponse.Columns} FROM chat.sessions WHERE instance_id = $1 AND session_id = $2", instanceId, session.SessionId)
                .SingleOrDefaultAsync(SessionResponse.Read, ct));
        }, chat.Aborted);
        var (deviceExists, inserted, stored) = chat.Written(written);

        if (!deviceExists)
        {
            return Problems.NotFound("No such device in this instance.");
        }

        await chat.Cache.InvalidateAsync([CacheKeys.ActiveSessions(instanceId)], written.Token, chat.Aborted);
        if (inserted)
        {
            return TypedResults.Created($"/sessions/{session.SessionId}", session);
        }

        // The same key again: the session its first request started, unless this one asked for another device.
        return stored is not null && stored.DeviceId == deviceId
            ? TypedResults.Ok(stored)
            : Problems.Conflict($"This {IdempotencyKey.HeaderName} was already used to start a session for another device.");
    }

    private static async Task<Results<Ok<SessionPage>, ValidationProblem>> ListActiveSessionsAsync(
        string? before, string? limit, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        Guid? beforeId = before is null ? null : errors.Id("before", before);
        var pageSize = errors.Limit(limit, DefaultPageSize, MaxPageSize);
        var token = errors.Token(chat.Http);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        Task<ReadResult<List<SessionResponse>>> ReadAsync(ConsistencyToken? required, CancellationToken cancellationToken) => chat.Database.ReadAsync(instanceId, required, (connection, ct) => connection.Command(
            // Served by the partial index sessions_active; the first page starts above every UUID.
            $"SELECT {SessionResponse.Columns} FROM chat.sessions WHERE instance_id = $1 AND state = 'active' AND session_id < $2 ORDER BY session_id DESC LIMIT $3",
            instanceId, beforeId ?? Guid.AllBitsSet, pageSize).ListAsync(SessionResponse.Read, ct), cancellationToken);

        // Only the first page at the default size is cached: it is what clients poll.
        var isFirstPage = beforeId is null && pageSize == DefaultPageSize;
        var items = chat.Read(isFirstPage
            ? await chat.Cache.GetOrReadAsync(CacheKeys.ActiveSessions(instanceId), token, ReadAsync, chat.Aborted)
            : await ReadAsync(token, chat.Aborted));
        return TypedResults.Ok(new SessionPage(items, items.Count == pageSize ? items[^1].SessionId.ToString() : null));
    }

    private static async Task<Results<Ok<SessionResponse>, NotFound, ValidationProblem>> GetSessionAsync(
        string sessionId, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        var id = errors.Id("sessionId", sessionId);
        var token = errors.Token(chat.Http);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        var session = chat.Read(await chat.Cache.GetOrReadAsync(CacheKeys.Session(instanceId, id), token, (required, ct) => chat.Database.ReadAsync(
            instanceId, required, (connection, ct) => connection.Command(
                $"SELECT {SessionResponse.Columns} FROM chat.sessions WHERE instance_id = $1 AND session_id = $2", instanceId, id)
                .SingleOrDefaultAsync(SessionResponse.Read, ct), ct), chat.Aborted));
        return session is null ? TypedResults.NotFound() : TypedResults.Ok(session);
    }

    private static async Task<Results<Ok<SessionResponse>, NotFound, ValidationProblem>> EndSessionAsync(
        string sessionId, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        var id = errors.Id("sessionId", sessionId);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        // Ending twice is harmless: the first end time stays.
        var written = await chat.Database.WriteAsync(instanceId, (connection, ct) => connection.Command(
            $"""
            UPDATE chat.sessions SET state = 'ended', ended_at = coalesce(ended_at, now())
             WHERE instance_id = $1 AND session_id = $2
            RETURNING {SessionResponse.Columns}
            """, instanceId, id).SingleOrDefaultAsync(SessionResponse.Read, ct), chat.Aborted);
        var session = chat.Written(written);
        if (session is null)
        {
            return TypedResults.NotFound();
        }

        await chat.Cache.InvalidateAsync([CacheKeys.Session(instanceId, id), CacheKeys.ActiveSessions(instanceId)], written.Token, chat.Aborted);
        return TypedResults.Ok(session);
    }
}
