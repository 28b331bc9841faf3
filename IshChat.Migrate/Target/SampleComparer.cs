using System.Globalization;
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
        var sample = new Dictionary<(string Session, Guid Client), (MessageRow Row, byte[] Bytes)>();
        for (var i = offset; i < ids.Length && sample.Count < size; i += stride)
        {
            foreach (var raw in legacy.Messages(ids[i] - 1, ids[i], 1))
            {
                if (RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row)
                {
                    sample[(row.SessionLegacyId.ToString(CultureInfo.InvariantCulture), row.ClientMessageId)] = (row, raw[4] as byte[] ?? []);
                }
            }
        }

        await using var command = new NpgsqlCommand("""
            SELECT sm.legacy_id, m.client_message_id, dm.legacy_id, convert_to(m.body, 'UTF8'), m.created_at
              FROM unnest($1::text[], $2::uuid[]) AS wanted(session, client)
              JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.legacy_id = wanted.session
              JOIN chat.messages m ON m.session_id = sm.new_id AND m.client_message_id = wanted.client
              JOIN chat.legacy_id_map dm ON dm.legacy_table = 'devices' AND dm.new_id = m.sender_device_id
            """, connection) { Parameters = { new() { Value = sample.Keys.Select(k => k.Session).ToArray() }, new() { Value = sample.Keys.Select(k => k.Client).ToArray() } } };
        var differences = new List<string>();
        var found = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                found++;
                var (row, bytes) = sample[(reader.GetString(0), reader.GetGuid(1))];
                var body = reader.GetFieldValue<byte[]>(3);
                if (reader.GetString(2) != row.SenderLegacyId || !body.AsSpan().SequenceEqual(bytes)
                    || reader.GetFieldValue<DateTimeOffset>(4) != row.CreatedAt)
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
