namespace IshChat.Migrate.Mapping;

/// <summary>A legacy device as the chat schema will hold it.</summary>
public sealed record DeviceRow(long RowId, string LegacyId, string Name, DateTimeOffset CreatedAt, byte[] RowHash);

/// <summary>A legacy session; <see cref="EndedAt"/> set exactly when it was closed.</summary>
public sealed record SessionRow(long LegacyId, string DeviceLegacyId, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, byte[] RowHash);

/// <summary>A legacy message; <see cref="ClientIdDerived"/> when the legacy row had none (before app v2).</summary>
public sealed record MessageRow(
    long LegacyId, long SessionLegacyId, string SenderLegacyId, Guid ClientMessageId, bool ClientIdDerived,
    string Body, DateTimeOffset CreatedAt);

/// <summary>A legacy row that is not imported, with the rule it breaks and the row as it was.</summary>
public sealed record Reject(string Table, long RowId, string LegacyId, string Code, string Raw, byte[] RowHash)
{
    public string Reason => RejectCodes.Describe(Code);
}

/// <summary>Every reason a row is refused; the codes are stable (tests and reports key on them).</summary>
public static class RejectCodes
{
    public const string NameMissing = "name_missing";
    public const string NameInvalid = "name_invalid";
    public const string IdInvalid = "id_invalid";
    public const string DuplicateId = "duplicate_id";
    public const string TimestampInvalid = "timestamp_invalid";
    public const string BooleanInvalid = "boolean_invalid";
    public const string DeviceMissing = "device_missing";
    public const string DeviceRejected = "device_rejected";
    public const string EndedWithoutTime = "closed_without_end_time";
    public const string TimeWithoutEnded = "end_time_but_not_closed";
    public const string SessionMissing = "session_missing";
    public const string SessionRejected = "session_rejected";
    public const string SenderMissing = "sender_missing";
    public const string SenderRejected = "sender_rejected";
    public const string Deleted = "deleted_in_legacy";
    public const string ClientIdInvalid = "client_msg_id_invalid";
    public const string DuplicateClientId = "duplicate_client_msg_id";
    public const string BodyMissing = "body_missing";
    public const string BodyNotUtf8 = "body_not_utf8";
    public const string BodyInvalid = "body_invalid";
    public const string ChangedDuringImport = "changed_during_import";

    public static string Describe(string code) => code switch
    {
        NameMissing => "device name is NULL or empty; the chat schema requires 1-100 characters",
        NameInvalid => "device name breaks the API's name rule (over 100 characters, control characters or NUL)",
        IdInvalid => "the row's id or a reference is neither an integer nor a plain text key",
        DuplicateId => "the same device id (as INTEGER and TEXT, or twice) already appeared earlier; the first row is imported",
        TimestampInvalid => "a required timestamp is NULL, in no known format, or outside 2000-2100",
        BooleanInvalid => "a flag is neither 0/1 nor true/false/t/f/yes/no",
        DeviceMissing => "the session's device does not exist (orphaned foreign key)",
        DeviceRejected => "the session's device is itself rejected",
        EndedWithoutTime => "closed = true but ended_at is NULL; the chat schema needs both or neither",
        TimeWithoutEnded => "ended_at is set but closed = false; the chat schema needs both or neither",
        SessionMissing => "the message's session does not exist (orphaned foreign key)",
        SessionRejected => "the message's session is rejected",
        SenderMissing => "the message's sender device does not exist (orphaned foreign key)",
        SenderRejected => "the message's sender device is rejected",
        Deleted => "soft-deleted in the legacy app (deleted = true); the chat schema keeps no deleted messages",
        ClientIdInvalid => "client_msg_id is set but is not a UUID",
        DuplicateClientId => "an earlier message of the same session has the same client_msg_id; the chat schema keeps one",
        BodyMissing => "body is NULL",
        BodyNotUtf8 => "body is not valid UTF-8",
        BodyInvalid => "body breaks the API's message rule (empty, over 4000 characters, NUL or control characters)",
        ChangedDuringImport => "the row changed between the import's two reads; the next sync takes it",
        _ => code,
    };
}
