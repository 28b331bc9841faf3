using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;

namespace IshChat.Migrate.Target;

/// <summary>
/// Reads and converts the messages of one chunk (legacy ids after a checkpoint) on another
/// thread, one chunk ahead of the writer. Asked for a chunk other than the one prepared (a
/// retry after a failover resumes from an older checkpoint), it reads that one instead.
/// </summary>
public sealed class ChunkReader(LegacyDatabase legacy, LegacySnapshot snapshot, Guid instanceId,
    Dictionary<string, Guid> devices, Dictionary<long, Guid> sessions, int chunkSize)
{
    private Task<MessageChunk>? ahead;

    public async Task<MessageChunk> TakeAsync(long after, CancellationToken cancellationToken)
    {
        var chunk = ahead is null ? null : await ahead;
        if (chunk?.After != after)
        {
            chunk = Read(after);
        }

        ahead = chunk.Last == chunk.After ? null : Task.Run(() => Read(chunk.Last), cancellationToken);
        return chunk;
    }

    private MessageChunk Read(long after)
    {
        var messages = new List<StagedMessage>(chunkSize);
        var rejects = new List<Reject>();
        var last = after;
        foreach (var raw in legacy.Messages(after, snapshot.HighWater.Messages, chunkSize))
        {
            var id = (long)raw[0]!;
            last = id;
            var seq = snapshot.SeqOf(id);
            if (seq > 0 && RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row)
            {
                messages.Add(new StagedMessage(row, sessions[row.SessionLegacyId], devices[row.SenderLegacyId], seq));
                continue;
            }

            rejects.Add(seq == 0 && snapshot.MessageRejects.TryGetValue(id, out var reject) ? reject
                : new Reject(LegacySchema.Messages, id, id.ToString(), RejectCodes.ChangedDuringImport, RowHash.Describe(raw), RowHash.Of(raw)));
        }

        // One session's messages together, in seq order: the writes walk each index page once, not once per message.
        messages.Sort((a, b) => a.SessionId != b.SessionId ? a.SessionId.CompareTo(b.SessionId) : a.Seq.CompareTo(b.Seq));
        return new MessageChunk(after, last, messages, rejects);
    }
}

public sealed record MessageChunk(long After, long Last, List<StagedMessage> Messages, List<Reject> Rejects);
