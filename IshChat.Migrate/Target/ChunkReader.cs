using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;

namespace IshChat.Migrate.Target;

/// <summary>
/// Reads and converts the messages of one chunk (a range of legacy ids): the valid ones with their
/// new ids and seq, sorted by session; the others with their rejects. One per writer (SQLite
/// connections are not shared between threads).
/// </summary>
public sealed class ChunkReader(LegacyDatabase legacy, LegacySnapshot snapshot, Guid instanceId,
    Dictionary<string, Guid> devices, Dictionary<long, Guid> sessions)
{
    public MessageChunk Read(long after, long upTo)
    {
        var messages = new List<StagedMessage>();
        var rejects = new List<Reject>();
        foreach (var raw in legacy.Messages(after, upTo))
        {
            var id = (long)raw[0]!;
            var seq = snapshot.SeqOf(id);
            if (seq > 0 && RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row)
            {
                messages.Add(new StagedMessage(row, sessions[row.SessionLegacyId], devices[row.SenderLegacyId], seq));
                continue;
            }

            rejects.Add(seq == 0 && snapshot.MessageRejects.TryGetValue(id, out var reject) ? reject
                : new Reject(LegacySchema.Messages, id, id.ToString(CultureInfo.InvariantCulture), RejectCodes.ChangedDuringImport, RowHash.Describe(raw), RowHash.Of(raw)));
        }

        // One session's messages together, in seq order: the writes walk each index page once, not once per message.
        messages.Sort((a, b) => a.SessionId != b.SessionId ? a.SessionId.CompareTo(b.SessionId) : a.Seq.CompareTo(b.Seq));
        return new MessageChunk(messages, rejects);
    }
}

public sealed record MessageChunk(List<StagedMessage> Messages, List<Reject> Rejects);
