using System.Globalization;
using Microsoft.Data.Sqlite;

namespace IshChat.Migrate.Legacy;

/// <summary>
/// One legacy SQLite file, opened read-only (the tool never writes it, except <c>cutover</c>'s
/// freeze). Text columns are read as BLOBs so invalid UTF-8 reaches the rules as bytes.
/// </summary>
public sealed class LegacyDatabase : IDisposable
{
    private LegacyDatabase(SqliteConnection connection, string path) => (Connection, Path) = (connection, path);

    public SqliteConnection Connection { get; }

    public string Path { get; }

    public static LegacyDatabase Open(string path, bool writable = false)
    {
        if (!File.Exists(path))
        {
            throw new MigrationException(ExitCodes.BadInput, $"The SQLite file '{path}' does not exist.");
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = writable ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            // The legacy app never enforced them; the rules report orphans instead.
            ForeignKeys = false,
            // The legacy app may hold a write lock for a moment; wait that long before calling it "locked".
            DefaultTimeout = 5,
        }.ToString());
        try
        {
            connection.Open();
            using (var busy = connection.CreateCommand())
            {
                busy.CommandText = "PRAGMA busy_timeout = 5000";
                busy.ExecuteNonQuery();
            }

            var database = new LegacyDatabase(connection, path);
            var version = Convert.ToInt32(database.Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);
            if (version != LegacySchema.SupportedVersion)
            {
                throw new MigrationException(ExitCodes.BadInput,
                    $"'{path}' has legacy schema version {version}; this tool reads version {LegacySchema.SupportedVersion} (docs/migration.md).");
            }

            foreach (var table in new[] { LegacySchema.Devices, LegacySchema.Sessions, LegacySchema.Messages })
            {
                if (database.Scalar($"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'") is 0L)
                {
                    throw new MigrationException(ExitCodes.BadInput, $"'{path}' has no table '{table}': not an ISH Chat legacy database.");
                }
            }

            return database;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Explain(ex, path);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>SQLite's error codes as a person would want them told.</summary>
    public static MigrationException Explain(SqliteException ex, string path) => ex.SqliteErrorCode switch
    {
        5 or 6 => new MigrationException(ExitCodes.BadInput, $"'{path}' is locked by another process (SQLite: {ex.Message}). Stop the legacy app's writes or retry."),
        11 or 26 => new MigrationException(ExitCodes.BadInput, $"'{path}' is corrupt or not a SQLite database (SQLite: {ex.Message}). Run `sqlite3 '{path}' 'PRAGMA integrity_check'`."),
        13 => new MigrationException(ExitCodes.DiskFull, $"The disk is full (SQLite: {ex.Message})."),
        14 => new MigrationException(ExitCodes.BadInput, $"'{path}' cannot be opened (SQLite: {ex.Message}). Check permissions and that its -wal/-shm files are readable."),
        _ => new MigrationException(ExitCodes.BadInput, $"Reading '{path}' failed (SQLite {ex.SqliteErrorCode}: {ex.Message})."),
    };

    public object? Scalar(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Rows as SQLite typed them: long, double, string, byte[] or null per column.</summary>
    public IEnumerable<object?[]> Rows(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        SqliteDataReader reader;
        try
        {
            reader = command.ExecuteReader();
        }
        catch (SqliteException ex)
        {
            throw Explain(ex, Path);
        }

        using (reader)
        {
            var values = new object?[reader.FieldCount];
            while (true)
            {
                try
                {
                    if (!reader.Read())
                    {
                        yield break;
                    }
                }
                catch (SqliteException ex)
                {
                    throw Explain(ex, Path);
                }

                for (var i = 0; i < values.Length; i++)
                {
                    // GetValue alone (DBNull for NULL): IsDBNull first asked SQLite for each column's type twice,
                    // and pass 1 reads eight columns of every message.
                    var value = reader.GetValue(i);
                    values[i] = value is DBNull ? null : value;
                }

                yield return values;
            }
        }
    }

    public const string DeviceColumns = "rowid, id, CAST(name AS BLOB), platform, created_at, is_active";
    public const string SessionColumns = "id, device_id, CAST(topic AS BLOB), started_at, ended_at, closed";
    public const string MessageColumns = "id, session_id, sender_id, client_msg_id, CAST(body AS BLOB), created_at, edited_at, deleted";

    public IEnumerable<object?[]> Devices(long highWater) =>
        Rows($"SELECT {DeviceColumns} FROM devices WHERE rowid <= $hw ORDER BY rowid", ("$hw", highWater));

    public IEnumerable<object?[]> Sessions(long highWater) =>
        Rows($"SELECT {SessionColumns} FROM sessions WHERE id <= $hw ORDER BY id", ("$hw", highWater));

    /// <summary>The messages with these rowids (ascending), read in batches: a chunk's sessions' messages are all over the file.</summary>
    public IEnumerable<object?[]> MessagesWithIds(IReadOnlyList<long> ids)
    {
        for (var start = 0; start < ids.Count; start += 10_000)
        {
            var batch = "[" + string.Join(',', ids.Skip(start).Take(10_000).Select(id => id.ToString(CultureInfo.InvariantCulture))) + "]";
            foreach (var row in Rows($"SELECT {MessageColumns} FROM messages WHERE id IN (SELECT value FROM json_each($ids)) ORDER BY id", ("$ids", batch)))
            {
                yield return row;
            }
        }
    }

    public IEnumerable<object?[]> Messages(long after, long highWater, long limit = long.MaxValue) =>
        Rows($"SELECT {MessageColumns} FROM messages WHERE id > $after AND id <= $hw ORDER BY id LIMIT $limit",
            ("$after", after), ("$hw", highWater), ("$limit", limit));

    /// <summary>The newest row of each table now: an import takes these rows and leaves later ones to sync.</summary>
    public HighWater ReadHighWater() => new(
        Convert.ToInt64(Scalar("SELECT coalesce(max(rowid), 0) FROM devices"), CultureInfo.InvariantCulture),
        Convert.ToInt64(Scalar("SELECT coalesce(max(id), 0) FROM sessions"), CultureInfo.InvariantCulture),
        Convert.ToInt64(Scalar("SELECT coalesce(max(id), 0) FROM messages"), CultureInfo.InvariantCulture));

    public long Count(string table) => Convert.ToInt64(Scalar($"SELECT count(*) FROM \"{table}\""), CultureInfo.InvariantCulture);

    public void Dispose() => Connection.Dispose();
}

public readonly record struct HighWater(long Devices, long Sessions, long Messages)
{
    public static HighWater All { get; } = new(long.MaxValue, long.MaxValue, long.MaxValue);
}
