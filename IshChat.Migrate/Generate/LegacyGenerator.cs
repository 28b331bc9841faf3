using System.Globalization;
using System.Text;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using Microsoft.Data.Sqlite;

namespace IshChat.Migrate.Generate;

/// <summary>
/// Writes a realistic legacy database: the same seed gives the same file. A share <c>dirt</c>
/// of rows breaks exactly one rule each; the manifest says which, so tests can hold the
/// import to it (rows depending on a rejected row are expected to fail with the cascade's reason).
/// </summary>
public sealed class LegacyGenerator(int seed, double dirt)
{
    private readonly Random random = new(seed);
    private GeneratorText text = null!;

    /// <summary>Keep each valid message's created_at in the manifest (tests); off for big files.</summary>
    public bool TrackTimes { get; init; }

    public GeneratorManifest Generate(string path, long messages, Action<long>? progress = null)
    {
        text = new GeneratorText(random);
        File.Delete(path);
        var manifest = new GeneratorManifest { ValidMessages = TrackTimes ? [] : null };
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, ForeignKeys = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;");
        Execute(connection, LegacySchema.CreateScript);
        using var transaction = connection.BeginTransaction();
        var devices = WriteDevices(connection, Math.Max(4, messages / 400), manifest);
        var sessions = WriteSessions(connection, Math.Max(2, messages / 25), devices, manifest);
        WriteMessages(connection, messages, devices, sessions, manifest, progress);
        Execute(connection, "INSERT INTO read_receipts SELECT id, sender_id, created_at FROM messages WHERE id % 10 = 0");
        Execute(connection, "INSERT INTO settings VALUES ('schema_version', '3'), ('theme', 'dark'), ('last_backup', 1700000000)");
        transaction.Commit();
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        return manifest;
    }

    private bool Dirty() => random.NextDouble() < dirt;

    private List<(object Id, string Key, bool Valid)> WriteDevices(SqliteConnection connection, long count, GeneratorManifest manifest)
    {
        using var insert = Command(connection, "INSERT INTO devices (rowid, id, name, platform, created_at, is_active) VALUES ($0, $1, $2, $3, $4, $5)", 6);
        var devices = new List<(object Id, string Key, bool Valid)>();
        var duplicated = new HashSet<string>();
        for (long rowid = 1; rowid <= count; rowid++)
        {
            object id = random.Next(3) == 0 ? rowid : text.HexKey();
            object? name = text.DeviceName();
            object? created = text.Time(new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(2_000_000))).Value;
            string? code = null;
            if (Dirty() && devices.Count > 0)
            {
                switch (random.Next(6))
                {
                    case 0: name = null; code = RejectCodes.NameMissing; break;
                    case 1: name = "   "; code = RejectCodes.NameMissing; break;
                    case 2: name = "Bell\u0007phone"; code = RejectCodes.NameInvalid; break;
                    case 3: name = new string('x', 101); code = RejectCodes.NameInvalid; break;
                    case 4: created = random.Next(2) == 0 ? "yesterday" : "31/12/2019"; code = RejectCodes.TimestampInvalid; break;
                    default:
                        // The same device registered twice: v1 wrote 7, the v2 sync wrote '7'.
                        var first = devices[random.Next(devices.Count)];
                        if (!first.Valid || first.Id is not long || !duplicated.Add(first.Key)) { name = null; code = RejectCodes.NameMissing; break; }
                        id = first.Key; code = RejectCodes.DuplicateId; break;
                }
            }

            Run(insert, rowid, id, name, random.Next(2) == 0 ? "android" : "ios", created, text.Boolean(random.Next(5) > 0));
            var key = Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture)!;
            if (code is not null)
            {
                manifest.Expect(LegacySchema.Devices, rowid, code);
            }

            if (code != RejectCodes.DuplicateId)
            {
                devices.Add((id, key, code is null));
            }
        }

        return devices;
    }

    private List<GeneratedSession> WriteSessions(SqliteConnection connection, long count, List<(object Id, string Key, bool Valid)> devices, GeneratorManifest manifest)
    {
        using var insert = Command(connection, "INSERT INTO sessions (id, device_id, topic, started_at, ended_at, closed) VALUES ($0, $1, $2, $3, $4, $5)", 6);
        var sessions = new List<GeneratedSession>();
        for (long id = 1; id <= count; id++)
        {
            var device = devices[random.Next(devices.Count)];
            // 42 or '42': the v1 code bound ids as text.
            object? deviceRef = device.Id is long n && random.Next(2) == 0 ? n.ToString(CultureInfo.InvariantCulture) : device.Id;
            var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(random.Next(150_000_000));
            var closed = random.Next(10) < 6;
            object? started = text.Time(start).Value;
            object? ended = closed ? text.Time(start.AddHours(random.Next(1, 48))).Value : null;
            object? closedFlag = text.Boolean(closed);
            string? code = device.Valid ? null : RejectCodes.DeviceRejected;
            if (code is null && Dirty())
            {
                switch (random.Next(6))
                {
                    case 0: deviceRef = "gone-" + text.HexKey(); code = RejectCodes.DeviceMissing; break;
                    case 1: deviceRef = " 12"; code = RejectCodes.IdInvalid; break;
                    case 2: started = random.Next(2) == 0 ? null : "2021-13-45 25:00:00"; code = RejectCodes.TimestampInvalid; break;
                    case 3: closedFlag = text.Boolean(true); ended = null; code = RejectCodes.EndedWithoutTime; break;
                    case 4: closedFlag = text.Boolean(false); ended = text.Time(start.AddHours(1)).Value; code = RejectCodes.TimeWithoutEnded; break;
                    default: closedFlag = "maybe"; code = RejectCodes.BooleanInvalid; break;
                }
            }

            Run(insert, id, deviceRef, random.Next(4) == 0 ? null : "support #" + id, started, ended, closedFlag);
            if (code is not null)
            {
                manifest.Expect(LegacySchema.Sessions, id, code);
            }

            sessions.Add(new GeneratedSession(id, device.Key, code is null, start));
        }

        return sessions;
    }

    private void WriteMessages(SqliteConnection connection, long count, List<(object Id, string Key, bool Valid)> devices, List<GeneratedSession> sessions, GeneratorManifest manifest, Action<long>? progress)
    {
        // Text that is not UTF-8 reaches SQLite as a BLOB cast to TEXT, as the v1 C layer wrote it.
        var byKey = devices.ToDictionary(d => d.Key);
        using var insert = Command(connection, """
            INSERT INTO messages (id, session_id, sender_id, client_msg_id, body, created_at, edited_at, deleted)
            VALUES ($0, $1, $2, $3, CASE WHEN typeof($4) = 'blob' THEN CAST($4 AS TEXT) ELSE $4 END, $5, $6, $7)
            """, 8);
        for (long id = 1; id <= count; id++)
        {
            // A few sessions are busy, most are not: a square skews the choice towards the start.
            var session = sessions[(int)(Math.Pow(random.NextDouble(), 2) * sessions.Count)];
            var sender = random.Next(100) < 85 ? byKey[session.DeviceKey] : devices[random.Next(devices.Count)];
            // Mostly forward in time; 1 % of clocks are behind, so legacy order is not rowid order.
            session.Clock = session.Clock.AddSeconds(random.Next(100) == 0 ? -random.Next(1, 600) : random.Next(1, 900));
            var (created, stored) = text.Time(session.Clock);
            object? createdValue = created;
            var clientId = random.Next(5) == 0 ? null : random.Next(10) == 0 ? text.Uuid().ToString("D").ToUpperInvariant() : text.Uuid().ToString("D");
            object? sessionRef = random.Next(4) == 0 ? session.Id.ToString(CultureInfo.InvariantCulture) : session.Id;
            object? senderRef = sender.Id is long n && random.Next(2) == 0 ? n.ToString(CultureInfo.InvariantCulture) : sender.Id;
            object? body = random.Next(100) == 0 ? (object)(long)random.Next(1, 1000) : text.Body();
            object? deleted = text.NotDeleted();
            string? code = !session.Valid ? RejectCodes.SessionRejected : !sender.Valid ? RejectCodes.SenderRejected : null;
            if (code is null && Dirty())
            {
                switch (random.Next(12))
                {
                    case 0: sessionRef = sessions.Count + 1000 + id; code = RejectCodes.SessionMissing; break;
                    case 1: sessionRef = "abc"; code = RejectCodes.IdInvalid; break;
                    case 2: senderRef = "ghost-" + text.HexKey(); code = RejectCodes.SenderMissing; break;
                    case 3: createdValue = random.Next(2) == 0 ? null : "n/a"; code = RejectCodes.TimestampInvalid; break;
                    case 4: deleted = random.Next(2) == 0 ? 1L : "true"; code = RejectCodes.Deleted; break;
                    case 5: clientId = "retry-" + id; code = RejectCodes.ClientIdInvalid; break;
                    case 6 when session.LastClientId is not null:
                        // A retried post stored twice (no unique constraint in the legacy schema).
                        clientId = session.LastClientId; code = RejectCodes.DuplicateClientId; break;
                    case 7: body = null; code = RejectCodes.BodyMissing; break;
                    case 8: body = new byte[] { 0x68, 0x69, 0xC3, 0x28, 0xFF }; code = RejectCodes.BodyNotUtf8; break;
                    case 9: body = "before\0after"; code = RejectCodes.BodyInvalid; break;
                    case 10: body = random.Next(2) == 0 ? new string('a', 4001) : "  "; code = RejectCodes.BodyInvalid; break;
                    default: body = "\u001b[31mred"; code = RejectCodes.BodyInvalid; break;
                }
            }

            Run(insert, id, sessionRef, senderRef, clientId, body, createdValue, random.Next(50) == 0 ? text.Time(session.Clock.AddMinutes(1)).Value : null, deleted);
            if (code is not null)
            {
                manifest.Expect(LegacySchema.Messages, id, code);
            }
            else
            {
                session.LastClientId = clientId ?? session.LastClientId;
                manifest.ValidMessages?.Add(id, new ValidMessage(session.Id, clientId, stored));
            }

            if (id % 100_000 == 0)
            {
                progress?.Invoke(id);
            }
        }

        progress?.Invoke(count);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter("$" + i, null));
        }

        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class GeneratedSession(long id, string deviceKey, bool valid, DateTimeOffset start)
    {
        public long Id { get; } = id;
        public string DeviceKey { get; } = deviceKey;
        public bool Valid { get; } = valid;
        public DateTimeOffset Clock { get; set; } = start;
        public string? LastClientId { get; set; }
    }
}

/// <summary>What the generator made dirty, and why each such row must be rejected.</summary>
public sealed class GeneratorManifest
{
    public Dictionary<(string Table, long RowId), string> ExpectedRejects { get; } = [];

    /// <summary>Each valid message's session, client id and created_at as written (null when not tracked, for big files).</summary>
    public Dictionary<long, ValidMessage>? ValidMessages { get; init; }

    public void Expect(string table, long rowId, string code) => ExpectedRejects[(table, rowId)] = code;
}

/// <summary>A clean message as the generator wrote it: its session's legacy id, client_msg_id (null before app v2), created_at.</summary>
public sealed record ValidMessage(long Session, string? ClientId, DateTimeOffset CreatedAt);
