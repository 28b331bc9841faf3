using Npgsql;
using NpgsqlTypes;

namespace IshChat.Migrate.Target;

/// <summary>
/// The importer role's path for a chunk of messages (docs/security.md, "The importer role"): binary COPY straight
/// into chat.messages, which PostgreSQL allows only to a role that bypasses row-level security. What the per-row
/// policy and foreign-key triggers would check is checked here, for the whole chunk at once: every row carries the
/// instance id this tool puts there, and every session and sender the chunk names is one row of that instance.
/// The foreign-key triggers were half of the server's work per message (docs/migration.md, "Where the time goes").
/// </summary>
public static class DirectCopy
{
    /// <summary>
    /// Whether <paramref name="connection"/>'s role may take this path: it bypasses row-level security and holds what
    /// 0004_importer_role.sql grants. A cluster bootstrapped before the role existed has neither.
    /// </summary>
    public static async Task<bool> AvailableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT r.rolbypassrls AND has_table_privilege('chat.messages', 'INSERT')
                   AND has_table_privilege('chat.legacy_import_chunks', 'INSERT')
                   AND has_table_privilege('chat.legacy_rejects', 'INSERT')
                   AND has_table_privilege('chat.sessions', 'INSERT') AND has_table_privilege('chat.legacy_id_map', 'INSERT')
                   AND has_column_privilege('chat.sessions', 'session_id', 'SELECT')
                   AND has_column_privilege('chat.devices', 'device_id', 'SELECT')
                   AND has_parameter_privilege('session_replication_role', 'SET')
              FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user
            """, connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>Writes a chunk's messages in the caller's transaction; throws, writing nothing, if a parent is missing.</summary>
    public static async Task WriteMessagesAsync(NpgsqlConnection connection, Guid instanceId, IReadOnlyList<StagedMessage> rows, CancellationToken cancellationToken)
    {
        await CheckParentsAsync(connection, instanceId, "chunk's messages",
            [("chat.sessions", "session_id", "session", [.. rows.Select(r => r.SessionId).Distinct()]), ("chat.devices", "device_id", "sender", [.. rows.Select(r => r.SenderId).Distinct()])],
            cancellationToken);
        // Switches off, for this transaction's COPY only, the triggers whose work CheckParentsAsync did (the
        // foreign keys'; chat.messages has no other). CHECK constraints and unique keys still apply to every row.
        await ExecuteAsync(connection, "SET LOCAL session_replication_role = replica", cancellationToken);
        await Staging.CopyMessagesAsync(connection, "chat.messages", instanceId, rows, cancellationToken);
        await ExecuteAsync(connection, "SET LOCAL session_replication_role = origin", cancellationToken);
    }

    /// <summary>
    /// Writes the import's sessions and their id map rows in the caller's transaction, what <see cref="Staging.MoveSessions"/>
    /// does for the admin role; throws, writing nothing, if a device is not the instance's. chat.sessions has no
    /// trigger but its foreign keys'.
    /// </summary>
    public static async Task WriteSessionsAsync(NpgsqlConnection connection, Guid instanceId, IReadOnlyList<StagedRow> rows, CancellationToken cancellationToken)
    {
        await CheckParentsAsync(connection, instanceId, "sessions", [("chat.devices", "device_id", "device", [.. rows.Select(r => r.ParentId!.Value).Distinct()])], cancellationToken);
        await ExecuteAsync(connection, "SET LOCAL session_replication_role = replica", cancellationToken);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY chat.sessions (instance_id, session_id, device_id, state, started_at, ended_at, message_count, last_message_at, last_activity_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var row in rows)
            {
                copy.StartRow();
                copy.Write(instanceId, NpgsqlDbType.Uuid);
                copy.Write(row.NewId, NpgsqlDbType.Uuid);
                copy.Write(row.ParentId!.Value, NpgsqlDbType.Uuid);
                // As MoveSessions: ended ⇔ an end time, the chat schema's CHECK.
                copy.Write(row.EndedAt is null ? "active" : "ended", NpgsqlDbType.Text);
                copy.Write(row.Time, NpgsqlDbType.TimestampTz);
                WriteNullable(copy, row.EndedAt);
                copy.Write(row.MessageCount, NpgsqlDbType.Bigint);
                WriteNullable(copy, row.LastMessageAt);
                copy.Write(new[] { row.Time, row.EndedAt ?? row.Time, row.LastMessageAt ?? row.Time }.Max(), NpgsqlDbType.TimestampTz);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY chat.legacy_id_map (instance_id, legacy_table, legacy_id, legacy_rowid, new_id, row_hash) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in rows)
            {
                copy.StartRow();
                copy.Write(instanceId, NpgsqlDbType.Uuid);
                copy.Write(row.Table, NpgsqlDbType.Text);
                copy.Write(row.LegacyId, NpgsqlDbType.Text);
                copy.Write(row.RowId, NpgsqlDbType.Bigint);
                copy.Write(row.NewId, NpgsqlDbType.Uuid);
                copy.Write(row.RowHash, NpgsqlDbType.Bytea);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await ExecuteAsync(connection, "SET LOCAL session_replication_role = origin", cancellationToken);
    }

    private static void WriteNullable(NpgsqlBinaryImporter copy, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            copy.Write(time, NpgsqlDbType.TimestampTz);
        }
        else
        {
            copy.WriteNull();
        }
    }

    /// <summary>
    /// The foreign keys of what is about to be written, once per parent: every id is one row of the instance. Nothing in
    /// the chat API deletes a session or a device (only a whole instance goes, with everything in it), so no parent can
    /// vanish between this and the commit; verify counts orphans all the same.
    /// </summary>
    private static async Task CheckParentsAsync(NpgsqlConnection connection, Guid instanceId, string what,
        (string Table, string Column, string Noun, Guid[] Ids)[] parents, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT " + string.Join(", ", parents.Select((p, i) => $"(SELECT count(*) FROM {p.Table} WHERE instance_id = $1 AND {p.Column} = ANY(${i + 2}))")), connection);
        command.Parameters.Add(new() { Value = instanceId });
        foreach (var parent in parents)
        {
            command.Parameters.Add(new() { Value = parent.Ids });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var missing = parents.Select((p, i) => (p.Noun, Count: p.Ids.Length - reader.GetInt64(i))).Where(m => m.Count != 0).ToList();
        if (missing.Count > 0)
        {
            throw new MigrationException(ExitCodes.Database,
                $"{string.Join(" and ", missing.Select(m => $"{m.Count} {m.Noun}(s)"))} of the {what} are not in instance {instanceId}: " +
                "the instance changed during the import. Nothing of them was written; run verify, then import again.");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
