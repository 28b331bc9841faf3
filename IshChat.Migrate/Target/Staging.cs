using IshChat.Migrate.Mapping;
using Npgsql;
using NpgsqlTypes;

namespace IshChat.Migrate.Target;

/// <summary>
/// Binary COPY into the staging tables and the one statement that moves staged rows into the
/// chat tables (under row-level security) and the id map. See 0002_legacy_import.sql for why a stage.
/// </summary>
public static class Staging
{
    /// <summary>Staging tables for messages, one per concurrent writer (0002_legacy_import.sql).</summary>
    public const int MessageSlots = 4;

    /// <summary>
    /// Stages a chunk in the writer's slot and moves it into chat.messages in one transaction: the
    /// slot is locked first (a second import using the same slot waits instead of deadlocking on
    /// the TRUNCATE), and emptied before commit, so no staged row is ever committed.
    /// </summary>
    public static async Task MoveMessagesAsync(NpgsqlConnection connection, int slot, Guid instanceId, IEnumerable<StagedMessage> rows, CancellationToken cancellationToken)
    {
        var stage = $"chat_staging.legacy_stage_messages_{slot}";
        await using (var command = new NpgsqlCommand($"LOCK TABLE {stage} IN ACCESS EXCLUSIVE MODE", connection))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await CopyMessagesAsync(connection, stage, instanceId, rows, cancellationToken);
        await using var move = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new($"""
                    INSERT INTO chat.messages (instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at)
                    SELECT instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at FROM {stage}
                    """),
                new($"TRUNCATE {stage}"),
            },
        };
        await move.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Binary COPY of messages into <paramref name="table"/>: a stage here, chat.messages itself on the importer's path (<see cref="DirectCopy"/>).</summary>
    public static async Task<ulong> CopyMessagesAsync(NpgsqlConnection connection, string table, Guid instanceId, IEnumerable<StagedMessage> rows, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {table} (instance_id, session_id, seq, client_message_id, sender_device_id, body, created_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        // The synchronous writes: seven fields per message, and at 10 M messages an awaited call per field was
        // seconds of CPU spent on completed tasks. The writers are threads of their own (Importer), so blocking
        // while a full buffer goes out holds up nothing else.
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            copy.StartRow();
            copy.Write(instanceId, NpgsqlDbType.Uuid);
            copy.Write(row.SessionId, NpgsqlDbType.Uuid);
            copy.Write(row.Seq, NpgsqlDbType.Bigint);
            copy.Write(row.ClientMessageId, NpgsqlDbType.Uuid);
            copy.Write(row.SenderId, NpgsqlDbType.Uuid);
            if (row.Utf8Body is { } utf8)
            {
                // A text field's binary form is its UTF-8 bytes, exactly what bytea sends: the file's own bytes go
                // unchanged, and the server still checks they are valid UTF-8 (textrecv), as for any text.
                copy.Write(utf8, NpgsqlDbType.Bytea);
            }
            else
            {
                copy.Write(row.Body, NpgsqlDbType.Text);
            }

            copy.Write(row.CreatedAt, NpgsqlDbType.TimestampTz);
        }

        return await copy.CompleteAsync(cancellationToken);
    }

    public static async Task CopyRowsAsync(NpgsqlConnection connection, Guid instanceId, IEnumerable<StagedRow> rows, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY chat_staging.legacy_stage_rows (instance_id, legacy_table, legacy_id, legacy_rowid, new_id, parent_id, name, started_at, ended_at, message_count, last_message_at, row_hash) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(instanceId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(row.Table, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.LegacyId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.RowId, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(row.NewId, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(copy, row.ParentId, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(copy, row.Name, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(row.Time, NpgsqlDbType.TimestampTz, cancellationToken);
            await WriteNullableAsync(copy, row.EndedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(row.MessageCount, NpgsqlDbType.Bigint, cancellationToken);
            await WriteNullableAsync(copy, row.LastMessageAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(row.RowHash, NpgsqlDbType.Bytea, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    public const string MoveDevices = """
        WITH moved AS (DELETE FROM chat_staging.legacy_stage_rows WHERE legacy_table = 'devices' RETURNING *),
             inserted AS (
                INSERT INTO chat.devices (instance_id, device_id, name, created_at)
                SELECT instance_id, new_id, name, started_at FROM moved)
        INSERT INTO chat.legacy_id_map (instance_id, legacy_table, legacy_id, legacy_rowid, new_id, row_hash)
        SELECT instance_id, 'devices', legacy_id, legacy_rowid, new_id, row_hash FROM moved
        """;

    /// <summary>Sessions arrive with their final counters: the messages that follow are numbered 1..message_count.</summary>
    public const string MoveSessions = """
        WITH moved AS (DELETE FROM chat_staging.legacy_stage_rows WHERE legacy_table = 'sessions' RETURNING *),
             inserted AS (
                INSERT INTO chat.sessions (instance_id, session_id, device_id, state, started_at, ended_at, message_count, last_message_at, last_activity_at)
                SELECT instance_id, new_id, parent_id, CASE WHEN ended_at IS NULL THEN 'active' ELSE 'ended' END, started_at, ended_at,
                       message_count, last_message_at, greatest(started_at, ended_at, last_message_at) FROM moved)
        INSERT INTO chat.legacy_id_map (instance_id, legacy_table, legacy_id, legacy_rowid, new_id, row_hash)
        SELECT instance_id, 'sessions', legacy_id, legacy_rowid, new_id, row_hash FROM moved
        """;

    /// <summary>
    /// Rejects are few (the dirt), so plain parameter arrays; re-recording one replaces it. <paramref name="replace"/>
    /// false keeps a recorded one instead: the importer role may only insert (its chunk's rejects commit with the chunk's
    /// record, so none is recorded before).
    /// </summary>
    public static async Task InsertRejectsAsync(NpgsqlConnection connection, Guid instanceId, IReadOnlyCollection<Reject> rejects, CancellationToken cancellationToken, bool replace = true)
    {
        if (rejects.Count == 0)
        {
            return;
        }

        var onConflict = replace
            ? """
              ON CONFLICT (instance_id, legacy_table, legacy_rowid) DO UPDATE
                 SET legacy_id = excluded.legacy_id, reason_code = excluded.reason_code, reason = excluded.reason,
                     raw_row = excluded.raw_row, row_hash = excluded.row_hash, rejected_at = now()
              """
            : "ON CONFLICT DO NOTHING";
        await using var command = new NpgsqlCommand($"""
            INSERT INTO chat.legacy_rejects (instance_id, legacy_table, legacy_rowid, legacy_id, reason_code, reason, raw_row, row_hash)
            SELECT $1, t, r, i, c, d, w, h FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[]) AS u(t, r, i, c, d, w, h)
            {onConflict}
            """, connection);
        command.Parameters.Add(new() { Value = instanceId });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.Table).ToArray() });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.RowId).ToArray() });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.LegacyId).ToArray() });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.Code).ToArray() });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.Reason).ToArray() });
        // PostgreSQL text can't hold NUL; the report's raw row escapes it (RowHash.Describe), this is belt and braces.
        command.Parameters.Add(new() { Value = rejects.Select(r => r.Raw.Replace("\0", "\\u0000")).ToArray() });
        command.Parameters.Add(new() { Value = rejects.Select(r => r.RowHash).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>A message as it is written: the body as text or, when pass 1 kept the file's bytes, as those (UTF-8).</summary>
public readonly record struct StagedMessage(Guid SessionId, Guid SenderId, long Seq, Guid ClientMessageId, DateTimeOffset CreatedAt, string? Body, ReadOnlyMemory<byte>? Utf8Body)
{
    public static StagedMessage Of(MessageRow row, Guid sessionId, Guid senderId, long seq) =>
        new(sessionId, senderId, seq, row.ClientMessageId, row.CreatedAt, row.Body, null);
}

public sealed record StagedRow(string Table, string LegacyId, long RowId, Guid NewId, Guid? ParentId, string? Name,
    DateTimeOffset Time, DateTimeOffset? EndedAt, long MessageCount, DateTimeOffset? LastMessageAt, byte[] RowHash);

