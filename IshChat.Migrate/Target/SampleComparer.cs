using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// A spread of valid legacy messages compared as whole rows with what PostgreSQL holds: the body
/// byte for byte against SQLite's own bytes, ids through the map, times to the microsecond.
/// </summary>
public sealed class SampleComparer(LegacyDatabase legacy, Guid instanceId, LegacySnapshot snapshot)
{
    public async Task CompareAsync(NpgsqlConnection connection, int size, List<Check> checks, CancellationToken ct)
    {
        var ids = snapshot.MessageIds;
        if (size <= 0 || ids.Length == 0)
        {
            return;
        }

        // Evenly spread plus a random offset: each run looks at different rows, all parts of the file.
        var stride = Math.Max(1, ids.Length / size);
        var offset = Random.Shared.Next(stride);
        var sample = new Dictionary<string, (MessageRow Row, byte[] Bytes)>();
        for (var i = offset; i < ids.Length && sample.Count < size; i += stride)
        {
            foreach (var raw in legacy.Messages(ids[i] - 1, ids[i], 1))
            {
                if (RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row)
                {
                    sample[row.LegacyId.ToString()] = (row, raw[4] as byte[] ?? []);
                }
            }
        }

        await using var command = new NpgsqlCommand("""
            SELECT mm.legacy_id, sm.legacy_id, dm.legacy_id, m.client_message_id, convert_to(m.body, 'UTF8'), m.created_at
              FROM chat.legacy_id_map mm
              JOIN chat.messages m ON m.instance_id = mm.instance_id AND m.session_id = mm.new_id AND m.seq = mm.seq
              JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.new_id = m.session_id
              JOIN chat.legacy_id_map dm ON dm.legacy_table = 'devices' AND dm.new_id = m.sender_device_id
             WHERE mm.legacy_table = 'messages' AND mm.legacy_id = ANY($1)
            """, connection) { Parameters = { new() { Value = sample.Keys.ToArray() } } };
        var differences = new List<string>();
        var found = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                found++;
                var (row, bytes) = sample[reader.GetString(0)];
                var body = reader.GetFieldValue<byte[]>(4);
                if (reader.GetString(1) != row.SessionLegacyId.ToString() || reader.GetString(2) != row.SenderLegacyId
                    || reader.GetGuid(3) != row.ClientMessageId || !body.AsSpan().SequenceEqual(bytes)
                    || reader.GetFieldValue<DateTimeOffset>(5) != row.CreatedAt)
                {
                    differences.Add($"message {row.LegacyId}");
                }
            }
        }

        var missing = sample.Count - found;
        checks.Add(new Check($"sample: {sample.Count} full rows compared", $"{sample.Count} identical",
            differences.Count == 0 && missing == 0 ? $"{found} identical" : $"{missing} missing, {differences.Count} differ ({string.Join(", ", differences.Take(5))})",
            differences.Count == 0 && missing == 0));
    }
}
