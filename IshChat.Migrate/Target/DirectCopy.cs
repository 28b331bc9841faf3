using Npgsql;

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
        await CheckParentsAsync(connection, instanceId, rows, cancellationToken);
        // Switches off, for this transaction's COPY only, the triggers whose work CheckParentsAsync did (the
        // foreign keys'; chat.messages has no other). CHECK constraints and unique keys still apply to every row.
        await ExecuteAsync(connection, "SET LOCAL session_replication_role = replica", cancellationToken);
        await Staging.CopyMessagesAsync(connection, "chat.messages", instanceId, rows, cancellationToken);
        await ExecuteAsync(connection, "SET LOCAL session_replication_role = origin", cancellationToken);
    }

    /// <summary>
    /// The chunk's foreign keys, once per parent: every session and sender is a row of the instance. Nothing in the
    /// chat API deletes a session or a device (only a whole instance goes, with everything in it), so no parent can
    /// vanish between this and the commit; verify counts orphans all the same.
    /// </summary>
    private static async Task CheckParentsAsync(NpgsqlConnection connection, Guid instanceId, IReadOnlyList<StagedMessage> rows, CancellationToken cancellationToken)
    {
        var sessions = rows.Select(r => r.SessionId).Distinct().ToArray();
        var senders = rows.Select(r => r.SenderId).Distinct().ToArray();
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM chat.sessions WHERE instance_id = $1 AND session_id = ANY($2)),
                   (SELECT count(*) FROM chat.devices WHERE instance_id = $1 AND device_id = ANY($3))
            """, connection)
        {
            Parameters = { new() { Value = instanceId }, new() { Value = sessions }, new() { Value = senders } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (foundSessions, foundSenders) = (reader.GetInt64(0), reader.GetInt64(1));
        if (foundSessions != sessions.Length || foundSenders != senders.Length)
        {
            throw new MigrationException(ExitCodes.Database,
                $"{sessions.Length - foundSessions} session(s) and {senders.Length - foundSenders} sender(s) of a chunk's messages are not in instance {instanceId}: " +
                "the instance changed during the import. Nothing of the chunk was written; run verify, then import again.");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
