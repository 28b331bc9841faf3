using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// verify: the legacy file (up to the last import or sync) against the instance: counts, each
/// session's count and gapless numbering, order-independent checksums of every column, that
/// every mapped row exists, and a sample of full rows compared field by field.
/// </summary>
public sealed class Verifier(ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, int sampleSize)
{
    private static string Micros(string column) => $"(extract(epoch FROM {column}) * 1000000)::bigint";

    private static string Sum(string row) => $"coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint::numeric), 0)::text";

    public async Task<VerifyResult> RunAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await target.InScopeAsync(instanceId, (c, ct) => Checkpoint.ReadAsync(c, instanceId, ct), cancellationToken)
            ?? throw new MigrationException(ExitCodes.BadInput, "This instance has no import to verify; run import first.");
        LegacySnapshot snapshot;
        using (var step = progress.Start("Reading legacy rows", checkpoint.HighWater.Messages, "rows"))
        {
            snapshot = LegacySnapshot.Read(legacy, instanceId, checkpoint.HighWater, read => step.Value(read), withChecksums: true);
        }

        var checks = new List<Check>();
        using (var step = progress.Start("Comparing with PostgreSQL", 4, "checks"))
        {
            await target.InScopeAsync(instanceId, async (connection, ct) =>
            {
                checks.Clear();
                // Right after an import the planner may still see the tables as empty (autovacuum analyses them a
                // minute later, and only the owner may ANALYZE): it then nested loops over a million messages, and a
                // 1 M verify that takes 30 s ran for over 7 minutes. The next three checks read whole tables, where
                // hash joins are the right plan whatever the statistics say; the sample looks rows up, where they are not.
                // And no parallel workers for them: a parallel hash join keeps its table in /dev/shm, of which a container
                // has 64 MB by default, and the 10 M verify failed with "could not resize shared memory segment … No
                // space left on device"; one backend's hash tables live in its own memory (and spill to disk).
                await PlanForWholeTablesAsync(connection, true, ct);
                await CompareTablesAsync(connection, snapshot, checks, ct);
                step.Value(1);
                await CompareSessionsAsync(connection, snapshot, checks, ct);
                step.Value(2);
                await CheckIntegrityAsync(connection, checks, ct);
                step.Value(3);
                await PlanForWholeTablesAsync(connection, false, ct);
                await new SampleComparer(legacy, instanceId, snapshot).CompareAsync(connection, sampleSize, checks, ct);
                return 0;
            }, cancellationToken);
        }

        return new VerifyResult(checks);
    }

    private static async Task PlanForWholeTablesAsync(NpgsqlConnection connection, bool wholeTables, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(wholeTables
            ? "SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0"
            : "SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL max_parallel_workers_per_gather TO DEFAULT", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task CompareTablesAsync(NpgsqlConnection connection, LegacySnapshot snapshot, List<Check> checks, CancellationToken ct)
    {
        var device = $"dm.legacy_id || '|' || d.name || '|' || {Micros("d.created_at")}";
        var session = $"sm.legacy_id || '|' || dm.legacy_id || '|' || s.state || '|' || {Micros("s.started_at")} || '|' || coalesce({Micros("s.ended_at")}::text, '')";
        var message = $"sm.legacy_id || '|' || m.client_message_id::text || '|' || dm.legacy_id || '|' || m.body || '|' || {Micros("m.created_at")}";
        var sql = $"""
            SELECT (SELECT count(*) FROM chat.devices), (SELECT count(*) FROM chat.sessions), (SELECT count(*) FROM chat.messages),
                   (SELECT {Sum(device)} FROM chat.devices d
                      JOIN chat.legacy_id_map dm ON dm.legacy_table = 'devices' AND dm.new_id = d.device_id),
                   (SELECT {Sum(session)} FROM chat.sessions s
                      JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.new_id = s.session_id
                      JOIN chat.legacy_id_map dm ON dm.legacy_table = 'devices' AND dm.new_id = s.device_id),
                   (SELECT {Sum(message)} FROM chat.messages m
                      JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.new_id = m.session_id
                      JOIN chat.legacy_id_map dm ON dm.legacy_table = 'devices' AND dm.new_id = m.sender_device_id),
                   (SELECT count(*) FROM chat.legacy_rejects WHERE legacy_table = 'devices'),
                   (SELECT count(*) FROM chat.legacy_rejects WHERE legacy_table = 'sessions'),
                   (SELECT count(*) FROM chat.legacy_rejects WHERE legacy_table = 'messages')
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        checks.Add(Check.Equal("devices: rows", snapshot.Devices.Count, reader.GetInt64(0)));
        checks.Add(Check.Equal("sessions: rows", snapshot.Sessions.Count, reader.GetInt64(1)));
        checks.Add(Check.Equal("messages: rows", snapshot.ValidMessages, reader.GetInt64(2)));
        checks.Add(Check.Equal("devices: checksum", snapshot.DeviceChecksum.Value, reader.GetString(3)));
        checks.Add(Check.Equal("sessions: checksum", snapshot.SessionChecksum.Value, reader.GetString(4)));
        checks.Add(Check.Equal("messages: checksum", snapshot.MessageChecksum.Value, reader.GetString(5)));
        checks.Add(Check.Equal("devices: rejects recorded", snapshot.DeviceRejects.Count, reader.GetInt64(6)));
        checks.Add(Check.Equal("sessions: rejects recorded", snapshot.SessionRejects.Count, reader.GetInt64(7)));
        checks.Add(Check.Equal("messages: rejects recorded", snapshot.MessageRejects.Count, reader.GetInt64(8)));
    }

    /// <summary>Each session: as many messages as the legacy file's valid ones, numbered 1..n without a gap, and its counter agreeing.</summary>
    private static async Task CompareSessionsAsync(NpgsqlConnection connection, LegacySnapshot snapshot, List<Check> checks, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT sm.legacy_id, s.message_count, coalesce(c.n, 0), coalesce(c.top, 0)
              FROM chat.sessions s
              JOIN chat.legacy_id_map sm ON sm.legacy_table = 'sessions' AND sm.new_id = s.session_id
              LEFT JOIN (SELECT session_id, count(*) AS n, max(seq) AS top FROM chat.messages GROUP BY session_id) c ON c.session_id = s.session_id
            """, connection);
        var wrong = new List<string>();
        var seen = 0;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                seen++;
                var legacyId = long.Parse(reader.GetString(0), CultureInfo.InvariantCulture);
                var expected = snapshot.SessionStats.GetValueOrDefault(legacyId).Messages;
                var (counter, count, top) = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
                if (count != expected || counter != count || top != count)
                {
                    wrong.Add($"session {legacyId}: legacy {expected}, imported {count}, message_count {counter}, max seq {top}");
                }
            }
        }

        checks.Add(new Check("sessions: per-session message counts and gapless seq", $"{snapshot.Sessions.Count} sessions agree",
            wrong.Count == 0 ? $"{seen} sessions agree" : $"{wrong.Count} differ, e.g. {string.Join("; ", wrong.Take(3))}", wrong.Count == 0));
    }

    private static async Task CheckIntegrityAsync(NpgsqlConnection connection, List<Check> checks, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM chat.legacy_id_map x WHERE x.legacy_table = 'devices' AND NOT EXISTS (SELECT FROM chat.devices d WHERE d.instance_id = x.instance_id AND d.device_id = x.new_id)),
                   (SELECT count(*) FROM chat.legacy_id_map x WHERE x.legacy_table = 'sessions' AND NOT EXISTS (SELECT FROM chat.sessions s WHERE s.instance_id = x.instance_id AND s.session_id = x.new_id)),
                   (SELECT count(*) FROM chat.messages m WHERE NOT EXISTS (SELECT FROM chat.sessions s WHERE s.instance_id = m.instance_id AND s.session_id = m.session_id)
                                                            OR NOT EXISTS (SELECT FROM chat.devices d WHERE d.instance_id = m.instance_id AND d.device_id = m.sender_device_id)),
                   (SELECT count(*) FROM chat.sessions s WHERE NOT EXISTS (SELECT FROM chat.devices d WHERE d.instance_id = s.instance_id AND d.device_id = s.device_id))
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        checks.Add(Check.Equal("integrity: map rows without their device", 0L, reader.GetInt64(0)));
        checks.Add(Check.Equal("integrity: map rows without their session", 0L, reader.GetInt64(1)));
        checks.Add(Check.Equal("integrity: messages without session or sender", 0L, reader.GetInt64(2)));
        checks.Add(Check.Equal("integrity: sessions without device", 0L, reader.GetInt64(3)));
    }
}

public sealed record Check(string Name, string Expected, string Actual, bool Ok)
{
    public static Check Equal<T>(string name, T expected, T actual) => new(name, $"{expected}", $"{actual}", Equals(expected, actual));
}

public sealed record VerifyResult(IReadOnlyList<Check> Checks)
{
    public bool Ok => Checks.All(c => c.Ok);
}
