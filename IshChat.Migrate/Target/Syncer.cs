using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// sync: what changed in the legacy file since the last import or sync, found by each row's
/// fingerprint (not by edited_at, which the app did not always set). New rows are added (new
/// messages take the next seq of their session), edited rows updated in place, rows now
/// valid leave the reject table, rows now invalid join it. One transaction, so a failure or
/// failover mid-sync leaves the previous state and a re-run does the whole delta again.
/// </summary>
public sealed class Syncer(ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress)
{
    public async Task<SyncDelta> RunAsync(CancellationToken cancellationToken)
    {
        return await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            var checkpoint = await Checkpoint.ReadAsync(connection, instanceId, ct);
            if (checkpoint?.FinishedAt is null)
            {
                throw new MigrationException(ExitCodes.BadInput, "Sync follows a finished import; run import (again) first.");
            }

            var now = legacy.ReadHighWater();
            var highWater = new HighWater(Math.Max(now.Devices, checkpoint.HighWater.Devices), Math.Max(now.Sessions, checkpoint.HighWater.Sessions), Math.Max(now.Messages, checkpoint.HighWater.Messages));
            LegacySnapshot snapshot;
            using (var step = progress.Start("Reading legacy rows", highWater.Messages, "rows"))
            {
                snapshot = LegacySnapshot.Read(legacy, instanceId, highWater, read => step.Value(read));
            }

            var state = await SyncState.ReadAsync(connection, ct);
            var delta = new SyncDelta();
            var apply = new SyncWriter(connection, instanceId, delta);
            using (var step = progress.Start("Applying the delta", 3, "tables"))
            {
                await SyncDevicesAsync(snapshot, state, apply, ct);
                step.Value(1);
                await SyncSessionsAsync(snapshot, state, apply, ct);
                step.Value(2);
                await SyncMessagesAsync(snapshot, state, apply, ct);
            }

            var stillRejected = snapshot.AllRejects.Select(r => (r.Table, r.RowId)).ToHashSet();
            await apply.ResolveRejectsAsync(state.Rejects.Keys.Where(k => !stillRejected.Contains(k)).ToList(), ct);
            await Checkpoint.SetAsync(connection, instanceId,
                "devices_high_water = $2, sessions_high_water = $3, messages_high_water = $4, last_sync_at = now()", ct,
                highWater.Devices, highWater.Sessions, highWater.Messages);
            return delta;
        }, cancellationToken);
    }

    private async Task SyncDevicesAsync(LegacySnapshot snapshot, SyncState state, SyncWriter apply, CancellationToken ct)
    {
        var added = new List<StagedRow>();
        var edited = new List<StagedRow>();
        foreach (var d in snapshot.Devices.Values.Where(d => !state.Unchanged(LegacySchema.Devices, d.LegacyId, d.RowHash)))
        {
            var known = state.Map.TryGetValue((LegacySchema.Devices, d.LegacyId), out var mapped);
            var row = new StagedRow(LegacySchema.Devices, d.LegacyId, d.RowId, known ? mapped.NewId : NewIds.For(instanceId, LegacySchema.Devices, d.LegacyId, d.CreatedAt),
                null, d.Name, d.CreatedAt, null, 0, null, d.RowHash);
            (known ? edited : added).Add(row);
            state.Map[(LegacySchema.Devices, d.LegacyId)] = (d.RowHash, row.NewId, 0);
        }

        await apply.DevicesAsync(added, edited, ct);
        await apply.RejectsAsync(Changed(snapshot.DeviceRejects, state), state, ct);
    }

    private async Task SyncSessionsAsync(LegacySnapshot snapshot, SyncState state, SyncWriter apply, CancellationToken ct)
    {
        var added = new List<StagedRow>();
        var edited = new List<StagedRow>();
        foreach (var s in snapshot.Sessions.Values.Where(s => !state.Unchanged(LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.RowHash)))
        {
            var known = state.Map.TryGetValue((LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture)), out var mapped);
            var row = new StagedRow(LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.LegacyId,
                known ? mapped.NewId : NewIds.For(instanceId, LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.StartedAt),
                state.Map[(LegacySchema.Devices, s.DeviceLegacyId)].NewId, null, s.StartedAt, s.EndedAt, 0, null, s.RowHash);
            (known ? edited : added).Add(row);
            state.Map[(LegacySchema.Sessions, row.LegacyId)] = (s.RowHash, row.NewId, 0);
        }

        await apply.SessionsAsync(added, edited, ct);
        await apply.RejectsAsync(Changed(snapshot.SessionRejects, state), state, ct);
    }

    private async Task SyncMessagesAsync(LegacySnapshot snapshot, SyncState state, SyncWriter apply, CancellationToken ct)
    {
        var added = new List<MessageRow>();
        var edited = new List<StagedMessage>();
        foreach (var raw in legacy.Messages(0, snapshot.HighWater.Messages))
        {
            // Invalid rows are compared below, by the snapshot's reject list.
            if (snapshot.SeqOf((long)raw[0]!) == 0)
            {
                continue;
            }

            var row = RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row!;
            var sessionId = state.Map[(LegacySchema.Sessions, row.SessionLegacyId.ToString(CultureInfo.InvariantCulture))].NewId;
            var senderId = state.Map[(LegacySchema.Devices, row.SenderLegacyId)].NewId;
            if (!state.Messages.TryGetValue((sessionId, row.ClientMessageId), out var imported))
            {
                added.Add(row);
            }
            else if (!imported.AsSpan().SequenceEqual(SyncState.Content(senderId, row.Body, row.CreatedAt)))
            {
                edited.Add(StagedMessage.Of(row, sessionId, senderId, 0));
            }
        }

        // New messages follow what the session already holds, in legacy order among themselves.
        var staged = new List<StagedMessage>();
        foreach (var session in added.GroupBy(m => m.SessionLegacyId))
        {
            var sessionId = state.Map[(LegacySchema.Sessions, session.Key.ToString(CultureInfo.InvariantCulture))].NewId;
            var seq = state.MessageCounts.GetValueOrDefault(sessionId);
            staged.AddRange(session.OrderBy(m => m.CreatedAt).ThenBy(m => m.LegacyId)
                .Select(m => StagedMessage.Of(m, sessionId, state.Map[(LegacySchema.Devices, m.SenderLegacyId)].NewId, ++seq)));
        }

        await apply.MessagesAsync(staged, edited, ct);
        await apply.RejectsAsync(Changed(snapshot.MessageRejects.Values, state), state, ct);
    }

    private static List<Reject> Changed(IEnumerable<Reject> rejects, SyncState state) =>
        [.. rejects.Where(r => !state.RejectUnchanged(r.Table, r.RowId, r.RowHash))];
}

public sealed class SyncDelta
{
    public Dictionary<string, long> Counts { get; } = [];

    public void Add(string what, long count) => Counts[what] = Counts.GetValueOrDefault(what) + count;
}
