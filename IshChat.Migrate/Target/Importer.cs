using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// import: devices, then sessions, then messages in chunks of whole sessions (<see cref="SessionChunks"/>) written
/// by several PostgreSQL sessions at once, then the message rejects. Each phase or chunk is one transaction that also records it as done, so after
/// a crash or a failover the next run (or the retry inside this one) does exactly what the
/// committed state lacks: no duplicate, no gap.
/// </summary>
/// <param name="chunkSize">Messages per chunk (whole sessions); null: <see cref="DefaultChunkSize"/>.</param>
/// <param name="newWriter">A session for one message writer.</param>
/// <param name="direct">Whether the writers are the importer role, which COPYs straight into chat.messages
/// (<see cref="DirectCopy"/>); otherwise they are the admin role and stage every chunk (<see cref="Staging"/>).</param>
public sealed class Importer(ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, int? chunkSize, int writers,
    Func<ChatTarget> newWriter, bool direct)
{
    public int Retries { get; private set; }

    /// <summary>
    /// A chunk writes one region of the messages' indexes (<see cref="SessionChunks"/>), so more chunks cost little more
    /// than their commits and parent checks: eight per writer keep the writers busy to the end, and a resume repeats
    /// at most one chunk per writer. At least 10 000 messages (a resume's unit on small files), at most 250 000.
    /// </summary>
    public static long DefaultChunkSize(long messagesHighWater, int writers) =>
        Math.Clamp(messagesHighWater / (8 * writers), 10_000, 250_000);

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

    /// <summary>The record in chat.legacy_import_chunks of the sessions, when the importer role writes them (it may not update the checkpoint).</summary>
    private const long SessionsUnit = -1;

    private async Task ImportSessionsAsync(LegacySnapshot snapshot, CancellationToken cancellationToken)
    {
        var (done, devices) = await target.InScopeAsync(instanceId, async (connection, ct) =>
            ((await Checkpoint.ReadAsync(connection, instanceId, ct))!.SessionsDone, await Checkpoint.ReadMapAsync(connection, LegacySchema.Devices, ct)), cancellationToken);
        if (done)
        {
            return;
        }

        using var step = progress.Start("Importing sessions", snapshot.Sessions.Count + snapshot.SessionRejects.Count, "rows");
        var rows = snapshot.Sessions.Values.Select(s =>
        {
            var stats = snapshot.SessionStats.GetValueOrDefault(s.LegacyId);
            var legacyId = s.LegacyId.ToString(CultureInfo.InvariantCulture);
            return new StagedRow(LegacySchema.Sessions, legacyId, s.LegacyId, NewIds.For(instanceId, LegacySchema.Sessions, legacyId, s.StartedAt), devices[s.DeviceLegacyId],
                null, s.StartedAt, s.EndedAt, stats.Messages, stats.Messages > 0 ? stats.LastMessageAt : null, s.RowHash);
        }).ToList();
        if (direct)
        {
            // Straight into chat.sessions as the importer role, recorded as a unit of its own; the checkpoint's flag follows.
            await using var writer = newWriter();
            await writer.InScopeAsync(instanceId, async (connection, ct) =>
            {
                if (!await ChunkDoneAsync(connection, instanceId, SessionsUnit, ct))
                {
                    await DirectCopy.WriteSessionsAsync(connection, instanceId, rows, ct);
                    await Staging.InsertRejectsAsync(connection, instanceId, snapshot.SessionRejects, ct, replace: false);
                    await RecordChunkAsync(connection, SessionsUnit, ct);
                }

                return 0;
            }, cancellationToken);
            Retries += writer.Retries;
        }

        await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            if ((await Checkpoint.ReadAsync(connection, instanceId, ct))!.SessionsDone)
            {
                return 0;
            }

            // An earlier run may have written them as the importer (a run without its connection now resumes that one).
            if (!direct && !await ChunkDoneAsync(connection, instanceId, SessionsUnit, ct))
            {
                await Staging.CopyRowsAsync(connection, instanceId, rows, ct);
                await ExecuteAsync(connection, Staging.MoveSessions, ct);
                await Staging.InsertRejectsAsync(connection, instanceId, snapshot.SessionRejects, ct);
            }

            await Checkpoint.SetAsync(connection, instanceId, "sessions_done = true", ct);
            return 0;
        }, cancellationToken);
        step.Value(snapshot.Sessions.Count + snapshot.SessionRejects.Count);
    }

    private async Task ImportMessagesAsync(LegacySnapshot snapshot, long messagesPerChunk, CancellationToken cancellationToken)
    {
        var (devices, sessions, bounds) = await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            var devices = await Checkpoint.ReadMapAsync(connection, LegacySchema.Devices, ct);
            var sessions = (await Checkpoint.ReadMapAsync(connection, LegacySchema.Sessions, ct)).ToDictionary(p => long.Parse(p.Key, CultureInfo.InvariantCulture), p => p.Value);
            return (devices, sessions, await PlanChunksAsync(connection, snapshot, sessions, messagesPerChunk, ct));
        }, cancellationToken);
        var chunkSessions = SessionChunks.Assign(bounds, sessions);
        // One unit per chunk of sessions, and a last one for the message rejects: a reject may name no session at all.
        var total = bounds.Length + 1;
        var rejectsUnit = bounds.Length;
        using var step = progress.Start("Importing messages", total, "chunks");
        while (true)
        {
            // Asked of the leader each round: after a failover it may lack chunks another writer committed.
            var done = await target.InScopeAsync(instanceId, (c, ct) => Checkpoint.ReadChunksAsync(c, ct), cancellationToken);
            var pending = new System.Collections.Concurrent.ConcurrentQueue<int>(Enumerable.Range(0, total).Where(k => !done.Contains(k)));
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
                    var chunk = k == rejectsUnit ? new MessageChunk([], [.. snapshot.MessageRejects.Values.OrderBy(r => r.RowId)]) : chunks.Read(chunkSessions[k]);
                    await writer.InScopeAsync(instanceId, async (connection, ct) =>
                    {
                        if (await ChunkDoneAsync(connection, instanceId, k, ct))
                        {
                            return 0;
                        }

                        if (chunk.Messages.Count == 0)
                        {
                            // Nothing to write but the rejects and the record.
                        }
                        else if (direct)
                        {
                            await DirectCopy.WriteMessagesAsync(connection, instanceId, chunk.Messages, ct);
                        }
                        else
                        {
                            await Staging.MoveMessagesAsync(connection, slot, instanceId, chunk.Messages, ct);
                        }

                        await Staging.InsertRejectsAsync(connection, instanceId, chunk.Rejects, ct, replace: !direct);
                        await RecordChunkAsync(connection, k, ct);
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

    /// <summary>
    /// The chunks, planned once from the committed sessions and each one's valid messages, and kept in the checkpoint:
    /// every later run (a resume, a retry) reads the same plan. An import begun by a version that chunked by legacy ids
    /// has chunk records but no plan; its chunks mean something else, so it is not resumed with this one.
    /// </summary>
    private async Task<Guid[]> PlanChunksAsync(NpgsqlConnection connection, LegacySnapshot snapshot, Dictionary<long, Guid> sessions, long messagesPerChunk,
        CancellationToken ct)
    {
        if ((await Checkpoint.ReadAsync(connection, instanceId, ct))!.ChunkBounds is { } planned)
        {
            return planned;
        }

        if ((await Checkpoint.ReadChunksAsync(connection, ct)).Count > 0)
        {
            throw new MigrationException(ExitCodes.Database,
                $"The import into instance {instanceId} was begun by an earlier ishchat-migrate that wrote messages by ranges of legacy ids; " +
                "this one writes them by sessions and can't resume it. Finish it with the version that began it, or delete the instance and import again.");
        }

        var bounds = SessionChunks.Plan(sessions.Select(p => (p.Value, snapshot.SessionStats.GetValueOrDefault(p.Key).Messages)), messagesPerChunk);
        await Checkpoint.SetAsync(connection, instanceId, "chunk_bounds = $2", ct, bounds);
        return bounds;
    }

    private async Task RecordChunkAsync(NpgsqlConnection connection, long chunk, CancellationToken ct)
    {
        await using var record = new NpgsqlCommand("INSERT INTO chat.legacy_import_chunks (instance_id, chunk) VALUES ($1, $2)", connection)
        {
            Parameters = { new() { Value = instanceId }, new() { Value = chunk } },
        };
        await record.ExecuteNonQueryAsync(ct);
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
