using IshChat.Migrate.Legacy;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>An instance's import state (chat.legacy_imports); read at the start of every unit of work.</summary>
/// <param name="ChunkSize">The messages a chunk should hold (whole sessions, so a busy one makes its chunk bigger).</param>
/// <param name="ChunkBounds">The first session_id of each message chunk (<see cref="SessionChunks"/>), planned once the
/// sessions are committed; null before, and for an import begun by a version that chunked by legacy ids.</param>
public sealed record Checkpoint(string Source, HighWater HighWater, bool DevicesDone, bool SessionsDone, long ChunkSize, DateTimeOffset? FinishedAt,
    Guid[]? ChunkBounds)
{
    public static async Task<Checkpoint?> ReadAsync(NpgsqlConnection connection, Guid instanceId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT source, devices_high_water, sessions_high_water, messages_high_water, devices_done, sessions_done, chunk_size, finished_at, chunk_bounds
              FROM chat.legacy_imports WHERE instance_id = $1
            """, connection) { Parameters = { new() { Value = instanceId } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Checkpoint(reader.GetString(0), new HighWater(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)),
            reader.GetBoolean(4), reader.GetBoolean(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<Guid[]>(8));
    }

    public static async Task StartAsync(NpgsqlConnection connection, Guid instanceId, string source, HighWater highWater, long chunkSize, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO chat.legacy_imports (instance_id, source, devices_high_water, sessions_high_water, messages_high_water, chunk_size)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (instance_id) DO NOTHING
            """, connection)
        {
            Parameters = { new() { Value = instanceId }, new() { Value = source }, new() { Value = highWater.Devices }, new() { Value = highWater.Sessions }, new() { Value = highWater.Messages }, new() { Value = chunkSize } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task SetAsync(NpgsqlConnection connection, Guid instanceId, string assignments, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand($"UPDATE chat.legacy_imports SET {assignments} WHERE instance_id = $1", connection);
        command.Parameters.Add(new() { Value = instanceId });
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Legacy id → new id for one table, as committed: resumed and later runs use these, never recomputed ids.</summary>
    public static async Task<Dictionary<string, Guid>> ReadMapAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT legacy_id, new_id FROM chat.legacy_id_map WHERE legacy_table = $1", connection)
        {
            Parameters = { new() { Value = table } },
        };
        var map = new Dictionary<string, Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            map[reader.GetString(0)] = reader.GetGuid(1);
        }

        return map;
    }

    /// <summary>The message chunks committed so far (after a failover: those the new leader has); not the sessions' unit (-1).</summary>
    public static async Task<HashSet<long>> ReadChunksAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT chunk FROM chat.legacy_import_chunks WHERE chunk >= 0", connection);
        var chunks = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chunks.Add(reader.GetInt64(0));
        }

        return chunks;
    }
}
