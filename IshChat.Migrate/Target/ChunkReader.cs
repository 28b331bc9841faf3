using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;

namespace IshChat.Migrate.Target;

/// <summary>
/// The messages of one chunk (a range of legacy ids): the valid ones with their new ids and seq,
/// sorted by session; the others with their rejects. From pass 1's memory when the snapshot kept
/// the messages; otherwise read and converted again from the file (one reader per writer: SQLite
/// connections are not shared between threads), when a row changed since pass 1 is rejected.
/// </summary>
public sealed class ChunkReader(LegacyDatabase legacy, LegacySnapshot snapshot, Guid instanceId,
    Dictionary<string, Guid> devices, Dictionary<long, Guid> sessions)
{
    public MessageChunk Read(long after, long upTo)
    {
        var chunk = snapshot.Kept is { } kept ? FromMemory(kept, after, upTo) : FromFile(after, upTo);
        // One session's messages together, in seq order: the writes walk each index page once, not once per message.
        chunk.Messages.Sort((a, b) => a.SessionId != b.SessionId ? a.SessionId.CompareTo(b.SessionId) : a.Seq.CompareTo(b.Seq));
        return chunk;
    }

    private MessageChunk FromMemory(KeptMessages kept, long after, long upTo)
    {
        var ids = snapshot.MessageIds;
        var first = LegacySnapshot.LowerBound(ids, after + 1);
        var end = LegacySnapshot.LowerBound(ids, upTo + 1);
        var messages = new List<StagedMessage>(end - first);
        for (var i = first; i < end; i++)
        {
            messages.Add(new StagedMessage(sessions[kept.Sessions[i]], devices[kept.Senders[i]], snapshot.MessageSeqs[i], kept.Clients[i],
                new DateTimeOffset(kept.Ticks[i], TimeSpan.Zero), null, kept.BodyStore[kept.Bodies[i]]));
        }

        return new MessageChunk(messages, [.. snapshot.MessageRejectsIn(after, upTo)]);
    }

    private MessageChunk FromFile(long after, long upTo)
    {
        var messages = new List<StagedMessage>();
        var rejects = new List<Reject>();
        foreach (var raw in legacy.Messages(after, upTo))
        {
            var id = (long)raw[0]!;
            var seq = snapshot.SeqOf(id);
            if (seq > 0 && RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row)
            {
                messages.Add(StagedMessage.Of(row, sessions[row.SessionLegacyId], devices[row.SenderLegacyId], seq));
                continue;
            }

            rejects.Add(seq == 0 && snapshot.MessageRejects.TryGetValue(id, out var reject) ? reject
                : new Reject(LegacySchema.Messages, id, id.ToString(CultureInfo.InvariantCulture), RejectCodes.ChangedDuringImport, RowHash.Describe(raw), RowHash.Of(raw)));
        }

        return new MessageChunk(messages, rejects);
    }
}

public sealed record MessageChunk(List<StagedMessage> Messages, List<Reject> Rejects);
