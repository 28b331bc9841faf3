using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>What the instance holds from earlier runs: each mapped row's fingerprint, each reject's, each session's counter.</summary>
public sealed class SyncState
{
    public Dictionary<(string Table, string LegacyId), (byte[] Hash, Guid NewId, long Seq)> Map { get; } = [];

    public Dictionary<(string Table, long RowId), byte[]> Rejects { get; } = [];

    public Dictionary<Guid, long> MessageCounts { get; } = [];

    /// <summary>Each message by its identity (session, client id), with an MD5 of what sync may change in it.</summary>
    public Dictionary<(Guid Session, Guid Client), byte[]> Messages { get; } = [];

    /// <summary>The content fingerprint, the same string PostgreSQL hashes in <see cref="ReadAsync"/>.</summary>
#pragma warning disable CA5351 // Not for security: it must equal PostgreSQL's md5() of the imported row.
    public static byte[] Content(Guid sender, string body, DateTimeOffset createdAt) =>
        System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes($"{sender:D}|{body}|{IshChat.Migrate.Mapping.Checksum.Micros(createdAt)}"));
#pragma warning restore CA5351

    public static async Task<SyncState> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var state = new SyncState();
        await using (var command = new NpgsqlCommand("SELECT legacy_table, legacy_id, row_hash, new_id, 0::bigint FROM chat.legacy_id_map", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                state.Map[(reader.GetString(0), reader.GetString(1))] = (reader.GetFieldValue<byte[]>(2), reader.GetGuid(3), reader.GetInt64(4));
            }
        }

        await using (var command = new NpgsqlCommand("SELECT legacy_table, legacy_rowid, row_hash FROM chat.legacy_rejects", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                state.Rejects[(reader.GetString(0), reader.GetInt64(1))] = reader.GetFieldValue<byte[]>(2);
            }
        }

        await using (var command = new NpgsqlCommand(
            "SELECT session_id, client_message_id, decode(md5(sender_device_id::text || '|' || body || '|' || (extract(epoch FROM created_at) * 1000000)::bigint), 'hex') FROM chat.messages",
            connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                state.Messages[(reader.GetGuid(0), reader.GetGuid(1))] = reader.GetFieldValue<byte[]>(2);
            }
        }

        await using (var command = new NpgsqlCommand("SELECT session_id, message_count FROM chat.sessions", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                state.MessageCounts[reader.GetGuid(0)] = reader.GetInt64(1);
            }
        }

        return state;
    }

    public bool Unchanged(string table, string legacyId, byte[] hash) =>
        Map.TryGetValue((table, legacyId), out var mapped) && mapped.Hash.AsSpan().SequenceEqual(hash);

    public bool RejectUnchanged(string table, long rowId, byte[] hash) =>
        Rejects.TryGetValue((table, rowId), out var known) && known.AsSpan().SequenceEqual(hash);
}
