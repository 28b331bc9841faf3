using System.Globalization;
using System.Text;
using Npgsql;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// Puts one instance's rows from a restored copy (the source, read as the superuser) back into the live database
/// (written as the app role, scoped to the instance, so row-level security holds the write to that instance and
/// nothing else can be touched). One live transaction: all of it or nothing; a dry run rolls it back.
/// Row by primary key: missing live → reinserted with its ids and seq; different live → listed, and overwritten only
/// when asked; only live → created after the target, kept and listed; a reinsert that hits another unique key
/// (a retried post that reused a client_message_id) → skipped and listed.
/// </summary>
public static class InstanceCopy
{
    private const int BatchSize = 1000;
    private const int ListedKeys = 20;

    public static async Task<IReadOnlyList<InstanceTableOutcome>> RunAsync(
        string sourceConnectionString, string liveConnectionString, Guid instanceId, bool overwrite, bool dryRun,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var source = new NpgsqlConnection(sourceConnectionString);
        await source.OpenAsync(cancellationToken);
        await using var live = new NpgsqlConnection(liveConnectionString);
        await live.OpenAsync(cancellationToken);

        await using var sourceTransaction = await source.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var liveTransaction = await live.BeginTransactionAsync(cancellationToken);
        // Fingerprints are jsonb text: both sides must print timestamps in the same zone.
        await ExecuteAsync(source, "SET LOCAL TimeZone = 'UTC'", cancellationToken);
        await ExecuteAsync(live, "SET LOCAL TimeZone = 'UTC'", cancellationToken);
        await ExecuteAsync(live, "SELECT set_config('ishchat.instance_id', @id::text, true)", cancellationToken, ("id", instanceId));

        if (await CountAsync(source, "chat.instances", instanceId, cancellationToken) == 0)
        {
            throw new InvalidOperationException($"Instance {instanceId} did not exist at the restore target: nothing to bring back.");
        }

        var outcomes = new List<InstanceTableOutcome>();
        foreach (var table in InstanceTables.Restored)
        {
            var outcome = await CopyTableAsync(source, live, table, instanceId, overwrite, progress, cancellationToken);
            progress?.Report(outcome.Summary(overwrite));
            outcomes.Add(outcome);
        }

        if (dryRun)
        {
            await liveTransaction.RollbackAsync(cancellationToken);
        }
        else
        {
            await liveTransaction.CommitAsync(cancellationToken);
        }

        return outcomes;
    }

    private static async Task<InstanceTableOutcome> CopyTableAsync(
        NpgsqlConnection source, NpgsqlConnection live, InstanceTable table, Guid instanceId, bool overwrite, IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var columns = await ColumnsAsync(live, table.Name, cancellationToken);
        var keys = columns.Where(c => c.IsKey).Select(c => c.Name).ToList();
        var key = $"concat_ws('/', {string.Join(", ", keys.Select(k => $"t.{Quote(k)}"))})";
        // Counting and reading the live side take a while on a large instance (54 s for 125,000 messages in a 1 GB
        // database on a busy machine): say so, rather than stay silent until the first comparison line.
        progress?.Report($"{table.Name}: counting the instance's rows at the target");
        var atTarget = await CountAsync(source, table.Name, instanceId, cancellationToken);

        // Live rows of the instance: key → fingerprint. RLS would hide other instances anyway; the WHERE uses the key's index.
        var liveRows = new Dictionary<string, string>(StringComparer.Ordinal);
        if (table.Readable)
        {
            await using var command = Command(live, $"SELECT {key}, md5(to_jsonb(t)::text) FROM {table.Name} AS t WHERE t.instance_id = @id", ("id", instanceId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{table.Name}: {atTarget:N0} rows at the target; reading the live ones"));
            while (await reader.ReadAsync(cancellationToken))
            {
                liveRows[reader.GetString(0)] = reader.GetString(1);
                if (liveRows.Count % 20_000 == 0)
                {
                    progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{table.Name}: {liveRows.Count:N0} live rows read"));
                }
            }
        }

        var outcome = new OutcomeBuilder(table, atTarget, table.Readable ? liveRows.Count : null);
        var inserts = new List<(string Key, string Row)>();
        var updates = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var compared = 0L;
        await using (var command = Command(source, $"SELECT {key}, md5(to_jsonb(t)::text), to_jsonb(t)::text FROM {table.Name} AS t WHERE t.instance_id = @id", ("id", instanceId)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (rowKey, fingerprint, row) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
                seen.Add(rowKey);
                if (!table.Readable || !liveRows.TryGetValue(rowKey, out var liveFingerprint))
                {
                    inserts.Add((rowKey, row));
                }
                else if (liveFingerprint == fingerprint)
                {
                    outcome.Unchanged++;
                }
                else
                {
                    outcome.Changed(rowKey);
                    if (overwrite)
                    {
                        updates.Add(row);
                    }
                }

                if (inserts.Count == BatchSize)
                {
                    await InsertAsync(live, table, key, inserts, outcome, cancellationToken);
                }

                if (updates.Count == BatchSize)
                {
                    await UpdateAsync(live, table, columns, updates, outcome, cancellationToken);
                }

                if (++compared % 20_000 == 0)
                {
                    progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{table.Name}: {compared:N0} of {atTarget:N0} rows at the target compared, {outcome.Reinserted:N0} reinserted"));
                }
            }
        }

        await InsertAsync(live, table, key, inserts, outcome, cancellationToken);
        await UpdateAsync(live, table, columns, updates, outcome, cancellationToken);
        foreach (var liveKey in liveRows.Keys.Where(k => !seen.Contains(k)))
        {
            outcome.CreatedAfterTarget(liveKey);
        }

        return outcome.Build();
    }

    private static async Task InsertAsync(
        NpgsqlConnection live, InstanceTable table, string key, List<(string Key, string Row)> rows, OutcomeBuilder outcome, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        // ON CONFLICT DO NOTHING: a row another unique key already claims is skipped, not an error that undoes the rest.
        var sql = $"INSERT INTO {table.Name} AS t SELECT * FROM jsonb_populate_recordset(NULL::{table.Name}, @rows::jsonb) ON CONFLICT DO NOTHING";
        await using var command = Command(live, table.Readable ? $"{sql} RETURNING {key}" : sql, ("rows", JsonArray(rows.Select(r => r.Row))));
        if (table.Readable)
        {
            var inserted = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetString(0));
            }

            outcome.Reinserted += inserted.Count;
            foreach (var skipped in rows.Where(r => !inserted.Contains(r.Key)))
            {
                outcome.Conflict(skipped.Key);
            }
        }
        else
        {
            outcome.Reinserted += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        rows.Clear();
    }

    private static async Task UpdateAsync(
        NpgsqlConnection live, InstanceTable table, IReadOnlyList<Column> columns, List<string> rows, OutcomeBuilder outcome, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var keepGreatest = table.KeepGreatest ?? [];
        var assignments = columns.Where(c => !c.IsKey).Select(c => keepGreatest.Contains(c.Name)
            ? $"{Quote(c.Name)} = greatest(t.{Quote(c.Name)}, r.{Quote(c.Name)})"
            : $"{Quote(c.Name)} = r.{Quote(c.Name)}");
        var match = columns.Where(c => c.IsKey).Select(c => $"t.{Quote(c.Name)} = r.{Quote(c.Name)}");
        await using var command = Command(live,
            $"UPDATE {table.Name} AS t SET {string.Join(", ", assignments)} FROM jsonb_populate_recordset(NULL::{table.Name}, @rows::jsonb) AS r WHERE {string.Join(" AND ", match)}",
            ("rows", JsonArray(rows)));
        outcome.Overwritten += await command.ExecuteNonQueryAsync(cancellationToken);
        rows.Clear();
    }

    private static async Task<IReadOnlyList<Column>> ColumnsAsync(NpgsqlConnection live, string table, CancellationToken cancellationToken)
    {
        await using var command = Command(live, """
            SELECT a.attname, coalesce(a.attnum = ANY (i.indkey), false)
              FROM pg_catalog.pg_attribute AS a
              LEFT JOIN pg_catalog.pg_index AS i ON i.indrelid = a.attrelid AND i.indisprimary
             WHERE a.attrelid = @table::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum
            """, ("table", table));
        var columns = new List<Column>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add(new Column(reader.GetString(0), reader.GetBoolean(1)));
        }

        return columns.Any(c => c.IsKey) && columns.Any(c => c.Name == "instance_id")
            ? columns
            : throw new InvalidOperationException($"{table} has no primary key or no instance_id column: it cannot be restored per instance.");
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table, Guid instanceId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT count(*) FROM {table} WHERE instance_id = @id", ("id", instanceId));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private static string JsonArray(IEnumerable<string> rows) => new StringBuilder("[").AppendJoin(',', rows).Append(']').ToString();

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private sealed record Column(string Name, bool IsKey);

    private sealed class OutcomeBuilder(InstanceTable table, long atTarget, long? live)
    {
        private readonly List<string> changed = [];
        private readonly List<string> created = [];
        private readonly List<string> conflicts = [];
        private long changedCount;
        private long createdCount;
        private long conflictCount;

        public long Unchanged { get; set; }

        public long Reinserted { get; set; }

        public long Overwritten { get; set; }

        public void Changed(string key) => Add(changed, key, ref changedCount);

        public void CreatedAfterTarget(string key) => Add(created, key, ref createdCount);

        public void Conflict(string key) => Add(conflicts, key, ref conflictCount);

        public InstanceTableOutcome Build() => new(table.Name, table.Readable, atTarget, live, Reinserted, Unchanged, changedCount, Overwritten,
            createdCount, conflictCount, changed, created, conflicts);

        private static void Add(List<string> keys, string key, ref long count)
        {
            count++;
            if (keys.Count < ListedKeys)
            {
                keys.Add(key);
            }
        }
    }
}
