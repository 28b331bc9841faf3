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

        using var step = progress.Start("Importing messages", snapshot.HighWater.Messages, "ids");
        var finished = false;
        while (!finished)
        {
            finished = await target.InScopeAsync(instanceId, async (connection, ct) =>
            {
                // Read again on every attempt: after a failover the new leader may lack the last chunk.
                var after = (await Checkpoint.ReadAsync(connection, instanceId, ct))!.MessagesAfter;
                step.Value(after);
                var rejects = new List<Reject>();
                var last = after;
                await Staging.CopyMessagesAsync(connection, instanceId, Chunk(after, rejects, id => last = id), ct);
                if (last == after)
                {
                    await Checkpoint.SetAsync(connection, instanceId, "finished_at = now()", ct);
                    return true;
                }

                await ExecuteAsync(connection, Staging.MoveMessages, ct);
                await Staging.InsertRejectsAsync(connection, instanceId, rejects, ct);
                await Checkpoint.SetAsync(connection, instanceId, "messages_after = $2", ct, last);
                return false;
            }, cancellationToken);
        }

        IEnumerable<StagedMessage> Chunk(long after, List<Reject> rejects, Action<long> seen)
        {
            foreach (var raw in legacy.Messages(after, snapshot.HighWater.Messages, chunkSize))
            {
                var id = (long)raw[0]!;
                seen(id);
                var seq = snapshot.SeqOf(id);
                if (seq > 0)
                {
                    var (row, _) = RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device);
                    if (row is not null)
                    {
                        yield return new StagedMessage(row, sessions[row.SessionLegacyId], devices[row.SenderLegacyId], seq);
                        continue;
                    }
                }

                rejects.Add(seq == 0 && snapshot.MessageRejects.TryGetValue(id, out var reject) ? reject
                    : new Reject(LegacySchema.Messages, id, id.ToString(), RejectCodes.ChangedDuringImport, RowHash.Describe(raw), RowHash.Of(raw)));
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed record ImportResult(LegacySnapshot Snapshot, bool Resumed, bool AlreadyDone);
