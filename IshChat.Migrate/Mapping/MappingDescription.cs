namespace IshChat.Migrate.Mapping;

/// <summary>How each legacy table and column lands in the chat schema; plan prints it (docs/migration.md says why).</summary>
public static class MappingDescription
{
    public static readonly string[] Lines =
    [
        "devices.id (INTEGER or TEXT; 7 and '7' are one id) -> chat.devices.device_id: new UUIDv7 from created_at; legacy id kept in chat.legacy_id_map",
        "devices.name -> chat.devices.name (the API's name rule: 1-100 characters, no control characters)",
        "devices.created_at (text formats, unix s/ms) -> chat.devices.created_at (timestamptz, UTC, microseconds)",
        "devices.platform, devices.is_active -> not imported (no column in the chat schema)",
        "sessions.id -> chat.sessions.session_id: new UUIDv7 from started_at",
        "sessions.device_id -> chat.sessions.device_id through the device map",
        "sessions.closed + ended_at -> chat.sessions.state ('ended' iff closed, then ended_at required) + ended_at",
        "sessions.started_at -> started_at; message_count, last_message_at, last_activity_at computed from the imported messages",
        "sessions.topic -> not imported (no column)",
        "messages.id -> chat.messages (session_id, seq): seq numbers a session's valid messages 1..n by created_at, then legacy id",
        "messages.client_msg_id -> client_message_id (UUID kept; NULL from app v1 -> a stable derived UUIDv8)",
        "messages.sender_id -> sender_device_id through the device map",
        "messages.body -> body, byte for byte (the API's message rule: 1-4000 characters, valid UTF-8, no NUL or control characters but line breaks and tabs)",
        "messages.created_at -> created_at; messages.deleted = true -> rejected; messages.edited_at -> not imported",
        "read_receipts, settings -> not imported (no counterpart); counted by plan",
    ];
}
