using Npgsql;

namespace IshChat.Api.Messages;

public sealed record PostMessageRequest(Guid? ClientMessageId, Guid? SenderDeviceId, string? Text);

public sealed record MessageResponse(long Seq, Guid ClientMessageId, Guid SenderDeviceId, string Text, DateTimeOffset CreatedAt)
{
    internal const string Columns = "seq, client_message_id, sender_device_id, body, created_at";

    internal static MessageResponse Read(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));
}

/// <summary>A page of messages; <see cref="NextCursor"/> continues in the same direction.</summary>
public sealed record MessagePage(IReadOnlyList<MessageResponse> Items, string? NextCursor);

internal enum PostOutcome
{
    Created,
    Duplicate,

    /// <summary>The client message id is already taken by a message with other content: a client bug, not a retry.</summary>
    DifferentContentForSameClientId,
    SessionNotFound,
    DeviceNotFound,
    SessionEnded,
}
