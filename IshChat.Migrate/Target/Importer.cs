using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// import: devices, then sessions, then messages in chunks of legacy ids. Each phase or chunk is
/// one transaction that also moves the checkpoint, so after a crash or a failover the next run
/// (or the retry inside this one) starts exactly where the committed state ends: no duplicate, no gap.
/// </summary>
public sealed class Importer(ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, int chunkSize)
{
    public async Task<ImportResult> RunAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            // The high-water marks are taken once: a resumed import reads the same rows, later ones are sync's.
            await Checkpoint.StartAsync(connection, instanceId, Path.GetFullPath(legacy.Path), legacy.ReadHighWater(), ct);
            return (await Checkpoint.ReadAsync(connection, instanceId, ct))!;
        }, cancellationToken);
        var resumed = checkpoint.DevicesDone || checkpoint.MessagesAfter > 0;

        LegacySnapshot snapshot;
        using (var step = progress.Start("Reading legacy rows", checkpoint.HighWater.Messages, "rows"))
        {
            snapshot = LegacySnapshot.Read(legacy, instanceId, checkpoint.HighWater, read => step.Value(read));
        }

        if (checkpoint.FinishedAt is null)
        {
            await ImportDevicesAsync(snapshot, cancellationToken);
            await ImportSessionsAsync(snapshot, cancellationToken);
            await ImportMessagesAsync(snapshot, cancellationToken);
        }

        return new ImportResult(snapshot, resumed, AlreadyDone: checkpoint.FinishedAt is not null);
    }

    private Task ImportDevicesAsync(LegacySnapshot snapshot, CancellationToken cancellationToken) =>
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

    private Task ImportSessionsAsync(LegacySnapshot snapshot, CancellationToken cancellationToken) =>
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
                return new StagedRow(LegacySchema.Sessions, s.LegacyId.ToString(), s.LegacyId,
                    NewIds.For(instanceId, LegacySchema.Sessions, s.LegacyId.ToString(), s.StartedAt), devices[s.DeviceLegacyId],
                    null, s.StartedAt, s.EndedAt, stats.Messages, stats.Messages > 0 ? stats.LastMessageAt : null, s.RowHash);
            }), ct);
            await ExecuteAsync(connection, Staging.MoveSessions, ct);
            await Staging.InsertRejectsAsync(connection, instanceId, snapshot.SessionRejects, ct);
            await Checkpoint.SetAsync(connection, instanceId, "sessions_done = true", ct);
            step.Value(snapshot.Sessions.Count + snapshot.SessionRejects.Count);
            return 0;
        }, cancellationToken);

    private async Task ImportMessagesAsync(LegacySnapshot snapshot, CancellationToken cancellationToken)
    {
        var (devices, sessions) = await target.InScopeAsync(instanceId, async (connection, ct) =>
            (await Checkpoint.ReadMapAsync(connection, LegacySchema.Devices, ct),
             (await Checkpoint.ReadMapAsync(connection, LegacySchema.Sessions, ct)).ToDictionary(p => long.Parse(p.Key), p => p.Value)), cancellationToken);
        var chunks = new ChunkReader(legacy, snapshot, instanceId, devices, sessions, chunkSize);
        using var step = progress.Start("Importing messages", snapshot.HighWater.Messages, "ids");
        var after = await target.InScopeAsync(instanceId, async (c, ct) => (await Checkpoint.ReadAsync(c, instanceId, ct))!.MessagesAfter, cancellationToken);
        while (true)
        {
            // The next chunk is read and converted while PostgreSQL writes this one (two cores, both busy).
            var chunk = await chunks.TakeAsync(after, cancellationToken);
            var committed = await target.InScopeAsync(instanceId, async (connection, ct) =>
            {
                // Read again on every attempt: after a failover the new leader may lack the last chunks.
                var checkpoint = (await Checkpoint.ReadAsync(connection, instanceId, ct))!.MessagesAfter;
                if (checkpoint != chunk.After)
                {
                    return checkpoint;
                }

                if (chunk.Last == chunk.After)
                {
                    await Checkpoint.SetAsync(connection, instanceId, "finished_at = now()", ct);
                    return -1;
                }

                await Staging.CopyMessagesAsync(connection, instanceId, chunk.Messages, ct);
                await ExecuteAsync(connection, Staging.MoveMessages, ct);
                await Staging.InsertRejectsAsync(connection, instanceId, chunk.Rejects, ct);
                await Checkpoint.SetAsync(connection, instanceId, "messages_after = $2", ct, chunk.Last);
                return chunk.Last;
            }, cancellationToken);
            if (committed < 0)
            {
                return;
            }

            after = committed;
            step.Value(after);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed record ImportResult(LegacySnapshot Snapshot, bool Resumed, bool AlreadyDone);
