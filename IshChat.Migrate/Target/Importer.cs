using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// import: devices, then sessions, then messages in fixed chunks of legacy ids written by several
/// sessions at once. Each phase or chunk is one transaction that also records it as done, so after
/// a crash or a failover the next run (or the retry inside this one) does exactly what the
/// committed state lacks: no duplicate, no gap.
/// </summary>
/// <param name="chunkSize">Legacy message ids per chunk; null: <see cref="DefaultChunkSize"/>.</param>
/// <param name="newWriter">A session for one message writer.</param>
/// <param name="direct">Whether the writers are the importer role, which COPYs straight into chat.messages
/// (<see cref="DirectCopy"/>); otherwise they are the admin role and stage every chunk (<see cref="Staging"/>).</param>
public sealed class Importer(ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, int? chunkSize, int writers,
    Func<ChatTarget> newWriter, bool direct)
{
    public int Retries { get; private set; }

    /// <summary>
    /// A chunk's ids belong to sessions all over the file, so every chunk's rows land on every leaf page of the
    /// messages' indexes: the fewer chunks, the fewer times each page is read, dirtied and written (at 10 M
    /// messages the indexes are many times shared_buffers). Three chunks per writer keep the writers busy to the
    /// end and a resumed import repeats at most a ninth; never under 50 000 ids, a resume's unit on small files.
    /// </summary>
    public static long DefaultChunkSize(long messagesHighWater, int writers) =>
        Math.Max(50_000, (messagesHighWater + 3 * writers - 1) / (3 * writers));

    public async Task<ImportResult> RunAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            // The high-water marks are taken once: a resumed import reads the same rows, later ones are sync's.
            var highWater = legacy.ReadHighWater();
            await Checkpoint.StartAsync(connection, instanceId, Path.GetFullPath(legacy.Path), highWater,
                chunkSize ?? DefaultChunkSize(highWater.Messages, Math.Clamp(writers, 1, Staging.MessageSlots)), ct);
            return (await Checkpoint.ReadAsync(connection, instanceId, ct))!;
        }, cancellationToken);
        var resumed = checkpoint.DevicesDone;

        LegacySnapshot snapshot;
        using (var step = progress.Start("Reading legacy rows", checkpoint.HighWater.Messages, "rows"))
        {
            // Read once when it fits: the writers then take pass 1's rows instead of reading and checking the file again.
            snapshot = LegacySnapshot.Read(legacy, instanceId, checkpoint.HighWater, read => step.Value(read),
                keepMessages: LegacySnapshot.MessagesFitInMemory(legacy.Path));
        }

        if (checkpoint.FinishedAt is null)
        {
            await ImportDevicesAsync(snapshot, cancellationToken);
            await ImportSessionsAsync(snapshot, cancellationToken);
            await ImportMessagesAsync(snapshot, checkpoint.ChunkSize, cancellationToken);
        }

        return new ImportResult(snapshot, resumed, AlreadyDone: checkpoint.FinishedAt is not null);
    }

    private Task<int> ImportDevicesAsync(LegacySnapshot snapshot, CancellationToken cancellationToken) =>
        target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            if ((await Checkpoint.ReadAsync(connection, instanceId, ct))!.DevicesDone)
            {
                return 0;
            }

            using var step = progress.Start("Importing devices", snapshot.Devices.Count + snapshot.DeviceRejects.Count, "rows");
            await Staging.CopyRowsAsync(connection, instanceId, snapshot.Devices.Values.Select(d => new StagedRow(
                LegacySchema.Devices, d.LegacyId, d.RowId, NewIds.For(instanceId, LegacySchema.Devices, d.LegacyId, d.CreatedAt),
                null, d.Name, d.CreatedAt, null, 0, null, d.RowHash)), ct);
            await ExecuteAsync(connection, Staging.MoveDevices, ct);
            await Staging.InsertRejectsAsync(connection, instanceId, snapshot.DeviceRejects, ct);
            await Checkpoint.SetAsync(connection, instanceId, "devices_done = true", ct);
            step.Value(snapshot.Devices.Count + snapshot.DeviceRejects.Count);
            return 0;
        }, cancellationToken);

    private Task<int> ImportSessionsAsync(LegacySnapshot snapshot, CancellationToken cancellationToken) =>
        target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            if ((await Checkpoint.ReadAsync(connection, instanceId, ct))!.SessionsDone)
            {
                return 0;
            }

            using var step = progress.Start("Importing sessions", snapshot.Sessions.Count + snapshot.SessionRejects.Count, "rows");
            var devices = await Checkpoint.ReadMapAsync(connection, LegacySchema.Devices, ct);
            await Staging.CopyRowsAsync(connection, instanceId, snapshot.Sessions.Values.Select(s =>
            {
                var stats = snapshot.SessionStats.GetValueOrDefault(s.LegacyId);
                return new StagedRow(LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.LegacyId,
                    NewIds.For(instanceId, LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.StartedAt), devices[s.DeviceLegacyId],
                    null, s.StartedAt, s.EndedAt, stats.Messages, stats.Messages > 0 ? stats.LastMessageAt : null, s.RowHash);
            }), ct);
            await ExecuteAsync(connection, Staging.MoveSessions, ct);
            await Staging.InsertRejectsAsync(connection, instanceId, snapshot.SessionRejects, ct);
            await Checkpoint.SetAsync(connection, instanceId, "sessions_done = true", ct);
            step.Value(snapshot.Sessions.Count + snapshot.SessionRejects.Count);
            return 0;
        }, cancellationToken);

    private async Task ImportMessagesAsync(LegacySnapshot snapshot, long size, CancellationToken cancellationToken)
    {
        var (devices, sessions) = await target.InScopeAsync(instanceId, async (connection, ct) =>
            (await Checkpoint.ReadMapAsync(connection, LegacySchema.Devices, ct),
             (await Checkpoint.ReadMapAsync(connection, LegacySchema.Sessions, ct)).ToDictionary(p => long.Parse(p.Key, CultureInfo.InvariantCulture), p => p.Value)), cancellationToken);
        var total = (snapshot.HighWater.Messages + size - 1) / size;
        using var step = progress.Start("Importing messages", total, "chunks");
        while (true)
        {
            // Asked of the leader each round: after a failover it may lack chunks another writer committed.
            var done = await target.InScopeAsync(instanceId, (c, ct) => Checkpoint.ReadChunksAsync(c, ct), cancellationToken);
            var pending = new System.Collections.Concurrent.ConcurrentQueue<long>(Enumerable.Range(0, (int)total).Select(k => (long)k).Where(k => !done.Contains(k)));
            if (pending.IsEmpty)
            {
                await target.InScopeAsync(instanceId, async (connection, ct) =>
                {
                    // Same transaction as the count: finished only if the leader holds every chunk.
                    if ((await Checkpoint.ReadChunksAsync(connection, ct)).Count != total)
                    {
                        return false;
                    }

                    await Checkpoint.SetAsync(connection, instanceId, "finished_at = now()", ct);
                    return true;
                }, cancellationToken);
                if ((await target.InScopeAsync(instanceId, (c, ct) => Checkpoint.ReadChunksAsync(c, ct), cancellationToken)).Count == total)
                {
                    return;
                }

                continue;
            }

            var completed = done.Count;
            step.Value(completed);
            // Several writers: the per-row work (policies, foreign keys, three indexes) is PostgreSQL's, one backend each.
            await Task.WhenAll(Enumerable.Range(0, Math.Clamp(Math.Min(writers, pending.Count), 1, Staging.MessageSlots)).Select(slot => Task.Run(async () =>
            {
                await using var writer = newWriter();
                using var reader = LegacyDatabase.Open(legacy.Path);
                var chunks = new ChunkReader(reader, snapshot, instanceId, devices, sessions);
                while (pending.TryDequeue(out var k))
                {
                    var chunk = chunks.Read(k * size, Math.Min((k + 1) * size, snapshot.HighWater.Messages));
                    await writer.InScopeAsync(instanceId, async (connection, ct) =>
                    {
                        if (await ChunkDoneAsync(connection, instanceId, k, ct))
                        {
                            return 0;
                        }

                        if (direct)
                        {
                            await DirectCopy.WriteMessagesAsync(connection, instanceId, chunk.Messages, ct);
                        }
                        else
                        {
                            await Staging.MoveMessagesAsync(connection, slot, instanceId, chunk.Messages, ct);
                        }

                        await Staging.InsertRejectsAsync(connection, instanceId, chunk.Rejects, ct, replace: !direct);
                        await using var record = new NpgsqlCommand("INSERT INTO chat.legacy_import_chunks (instance_id, chunk) VALUES ($1, $2)", connection)
                        {
                            Parameters = { new() { Value = instanceId }, new() { Value = k } },
                        };
                        await record.ExecuteNonQueryAsync(ct);
                        return 0;
                    }, cancellationToken);
                    step.Value(Interlocked.Increment(ref completed));
                }

                lock (this)
                {
                    Retries += writer.Retries;
                }
            }, cancellationToken)));
        }
    }

    /// <summary>The instance named, not left to row-level security: the importer role bypasses it.</summary>
    private static async Task<bool> ChunkDoneAsync(NpgsqlConnection connection, Guid instanceId, long chunk, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM chat.legacy_import_chunks WHERE instance_id = $1 AND chunk = $2", connection)
        {
            Parameters = { new() { Value = instanceId }, new() { Value = chunk } },
        };
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed record ImportResult(LegacySnapshot Snapshot, bool Resumed, bool AlreadyDone);
