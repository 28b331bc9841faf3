using Npgsql;

namespace IshChat.Api.Sessions;

public sealed record StartSessionRequest(Guid? DeviceId);

/// <summary>A chat session with its counters.</summary>
public sealed record SessionResponse(
    Guid SessionId, Guid DeviceId, string State, DateTimeOffset StartedAt, DateTimeOffset? EndedAt,
    long MessageCount, DateTimeOffset? LastMessageAt, DateTimeOffset LastActivityAt)
{
    internal const string Columns = "session_id, device_id, state, started_at, ended_at, message_count, last_message_at, last_activity_at";

    internal static SessionResponse Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt64(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7));
}

public sealed record SessionPage(IReadOnlyList<SessionResponse> Items, string? NextCursor);
