using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>The statements sync applies, inside its one transaction; each counts what it changed.</summary>
public sealed class SyncWriter(NpgsqlConnection connection, Guid instanceId, SyncDelta delta)
{
    public async Task DevicesAsync(List<StagedRow> added, List<StagedRow> edited, CancellationToken ct)
    {
        if (added.Count > 0)
        {
            await Staging.CopyRowsAsync(connection, instanceId, added, ct);
            await ExecuteAsync(Staging.MoveDevices, ct);
        }

        await ExecuteAsync("""
            UPDATE chat.devices d SET name = u.name, created_at = u.created_at
              FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, name, created_at) WHERE d.device_id = u.id
            """, ct, edited.Select(r => r.NewId).ToArray(), edited.Select(r => r.Name!).ToArray(), edited.Select(r => r.Time).ToArray());
        await UpdateHashesAsync(edited.Select(r => (r.Table, r.LegacyId, r.RowHash)).ToList(), ct);
        delta.Add("devices_added", added.Count);
        delta.Add("devices_edited", edited.Count);
    }

    public async Task SessionsAsync(List<StagedRow> added, List<StagedRow> edited, CancellationToken ct)
    {
        if (added.Count > 0)
        {
            await Staging.CopyRowsAsync(connection, instanceId, added, ct);
            await ExecuteAsync(Staging.MoveSessions, ct);
        }

        await ExecuteAsync("""
            UPDATE chat.sessions s SET device_id = u.device_id, started_at = u.started_at, ended_at = u.ended_at,
                   state = CASE WHEN u.ended_at IS NULL THEN 'active' ELSE 'ended' END,
                   last_activity_at = greatest(s.last_activity_at, u.ended_at)
              FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS u(id, device_id, started_at, ended_at)
             WHERE s.session_id = u.id
            """, ct, edited.Select(r => r.NewId).ToArray(), edited.Select(r => r.ParentId!.Value).ToArray(),
            edited.Select(r => r.Time).ToArray(), edited.Select(r => r.EndedAt).ToArray());
        await UpdateHashesAsync(edited.Select(r => (r.Table, r.LegacyId, r.RowHash)).ToList(), ct);
        delta.Add("sessions_added", added.Count);
        delta.Add("sessions_edited", edited.Count);
    }

    public async Task MessagesAsync(List<StagedMessage> added, List<StagedMessage> edited, CancellationToken ct)
    {
        if (added.Count > 0)
        {
            await Staging.MoveMessagesAsync(connection, 0, instanceId, added, ct);
            var bySession = added.GroupBy(m => m.SessionId).Select(g => (Id: g.Key, Count: (long)g.Count(), Last: g.Max(m => m.CreatedAt))).ToList();
            await ExecuteAsync("""
                UPDATE chat.sessions s SET message_count = s.message_count + u.n,
                       last_message_at = greatest(s.last_message_at, u.last), last_activity_at = greatest(s.last_activity_at, u.last)
                  FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, last) WHERE s.session_id = u.id
                """, ct, bySession.Select(s => s.Id).ToArray(), bySession.Select(s => s.Count).ToArray(), bySession.Select(s => s.Last).ToArray());
        }

        await ExecuteAsync("""
            UPDATE chat.messages m SET sender_device_id = u.sender, body = u.body, created_at = u.created_at
              FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) AS u(session_id, client_id, sender, body, created_at)
             WHERE m.session_id = u.session_id AND m.client_message_id = u.client_id
            """, ct, edited.Select(m => m.SessionId).ToArray(), edited.Select(m => m.ClientMessageId).ToArray(),
            edited.Select(m => m.SenderId).ToArray(), edited.Select(m => m.Body!).ToArray(), edited.Select(m => m.CreatedAt).ToArray());
        delta.Add("messages_added", added.Count);
        delta.Add("messages_edited", edited.Count);
    }

    /// <summary>
    /// Rejects new or changed since the last run. A row imported earlier and now invalid keeps its
    /// imported version (sync never deletes chat data) and is counted, so verify's mismatch has a name.
    /// </summary>
    public async Task RejectsAsync(List<Reject> rejects, SyncState state, CancellationToken ct)
    {
        await Staging.InsertRejectsAsync(connection, instanceId, rejects, ct);
        delta.Add("rejects_recorded", rejects.Count);
        delta.Add("imported_rows_now_invalid", rejects.Count(r => r.Code != RejectCodes.DuplicateId && state.Map.ContainsKey((r.Table, r.LegacyId))));
    }

    /// <summary>Rejects whose legacy row is now imported (fixed by an edit) or gone.</summary>
    public async Task ResolveRejectsAsync(List<(string Table, long RowId)> resolved, CancellationToken ct)
    {
        await ExecuteAsync("""
            DELETE FROM chat.legacy_rejects r USING unnest($1::text[], $2::bigint[]) AS u(t, id)
             WHERE r.legacy_table = u.t AND r.legacy_rowid = u.id
            """, ct, resolved.Select(r => r.Table).ToArray(), resolved.Select(r => r.RowId).ToArray());
        delta.Add("rejects_resolved", resolved.Count);
    }

    private Task UpdateHashesAsync(List<(string Table, string LegacyId, byte[] Hash)> rows, CancellationToken ct) => ExecuteAsync("""
        UPDATE chat.legacy_id_map m SET row_hash = u.h
          FROM unnest($1::text[], $2::text[], $3::bytea[]) AS u(t, id, h) WHERE m.legacy_table = u.t AND m.legacy_id = u.id
        """, ct, rows.Select(r => r.Table).ToArray(), rows.Select(r => r.LegacyId).ToArray(), rows.Select(r => r.Hash).ToArray());

    private async Task ExecuteAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }

        await command.ExecuteNonQueryAsync(ct);
    }
}
