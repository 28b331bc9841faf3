namespace IshChat.Migrate.Legacy;

/// <summary>
/// The legacy per-instance SQLite database, schema version 3 (docs/migration.md). Column
/// declarations are copied from the app as it shipped: the foreign-key columns have no type,
/// so SQLite gives them no affinity and keeps whatever the app wrote (42, '42', 'x').
/// </summary>
public static class LegacySchema
{
    /// <summary>PRAGMA user_version of the only layout this tool reads.</summary>
    public const int SupportedVersion = 3;

    public const string Devices = "devices";
    public const string Sessions = "sessions";
    public const string Messages = "messages";

    /// <summary>Tables the app kept that have no counterpart in the chat schema.</summary>
    public static readonly string[] NotMigrated = ["read_receipts", "settings"];

    public const string CreateScript = """
        CREATE TABLE devices (
            id         PRIMARY KEY,          -- v1 wrote integers, v2+ a 16-hex client key
            name       TEXT,
            platform   TEXT,
            created_at,                      -- TEXT in several formats, or unix seconds/ms
            is_active                        -- 0/1, 'true'/'false', 't'/'f', 'yes'/'no'
        );
        CREATE TABLE sessions (
            id         INTEGER PRIMARY KEY,
            device_id  REFERENCES devices,   -- foreign keys were never enforced (PRAGMA foreign_keys off)
            topic      TEXT,
            started_at,
            ended_at,
            closed
        );
        CREATE TABLE messages (
            id            INTEGER PRIMARY KEY,
            session_id    REFERENCES sessions,
            sender_id     REFERENCES devices,
            client_msg_id TEXT,              -- NULL before v2 (no idempotent posting then)
            body          TEXT,
            created_at,
            edited_at,
            deleted       DEFAULT 0
        );
        CREATE INDEX messages_by_session ON messages (session_id);
        CREATE TABLE read_receipts (message_id, device_id, read_at);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value);
        PRAGMA user_version = 3;
        """;
}
