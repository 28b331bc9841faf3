using System.Globalization;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;

namespace IshChat.Migrate.Target;

/// <summary>
/// The messages of one chunk (whole sessions, <see cref="SessionChunks"/>): the valid ones with their new ids and seq,
/// session after session in session_id order, each in seq order. From pass 1's memory when the snapshot kept the
/// messages; otherwise read and converted again from the file (one reader per writer: SQLite connections are not
/// shared between threads), when a row changed since pass 1 is rejected.
/// </summary>
public sealed class ChunkReader(LegacyDatabase legacy, LegacySnapshot snapshot, Guid instanceId,
    Dictionary<string, Guid> devices, Dictionary<long, Guid> sessions)
{
    /// <param name="legacySessions">The chunk's sessions (legacy ids) in session_id order.</param>
    public MessageChunk Read(IReadOnlyList<long> legacySessions) =>
        snapshot.Kept is { } kept ? FromMemory(kept, legacySessions) : FromFile(legacySessions);

    private MessageChunk FromMemory(KeptMessages kept, IReadOnlyList<long> legacySessions)
    {
        var messages = new List<StagedMessage>();
        foreach (var session in legacySessions)
        {
            var sessionId = sessions[session];
            foreach (var i in snapshot.MessagesOf(session))
            {
                messages.Add(new StagedMessage(sessionId, devices[kept.Senders[i]], snapshot.MessageSeqs[i], kept.Clients[i],
                    new DateTimeOffset(kept.Ticks[i], TimeSpan.Zero), null, kept.BodyStore[kept.Bodies[i]]));
            }
        }

        return new MessageChunk(messages, []);
    }

    private MessageChunk FromFile(IReadOnlyList<long> legacySessions)
    {
        var place = new Dictionary<long, (int Session, long Seq)>();
        for (var s = 0; s < legacySessions.Count; s++)
        {
            foreach (var i in snapshot.MessagesOf(legacySessions[s]))
            {
                place[snapshot.MessageIds[i]] = (s, snapshot.MessageSeqs[i]);
            }
        }

        var messages = new List<(int Session, StagedMessage Message)>(place.Count);
        var rejects = new List<Reject>();
        foreach (var raw in legacy.MessagesWithIds([.. place.Keys.Order()]))
        {
            var id = (long)raw[0]!;
            var (session, seq) = place[id];
            // Valid as pass 1 saw it, and still in the session pass 1 numbered it in.
            if (RowRules.Message(raw, instanceId, snapshot.Session, snapshot.Device).Row is { } row && row.SessionLegacyId == legacySessions[session])
            {
                messages.Add((session, StagedMessage.Of(row, sessions[row.SessionLegacyId], devices[row.SenderLegacyId], seq)));
                continue;
            }

            rejects.Add(new Reject(LegacySchema.Messages, id, id.ToString(CultureInfo.InvariantCulture), RejectCodes.ChangedDuringImport, RowHash.Describe(raw), RowHash.Of(raw)));
        }

        // Session by session in the chunk's order, each in seq order: the writes walk each index page once.
        messages.Sort((a, b) => a.Session != b.Session ? a.Session.CompareTo(b.Session) : a.Message.Seq.CompareTo(b.Message.Seq));
        return new MessageChunk([.. messages.Select(m => m.Message)], rejects);
    }
}

public sealed record MessageChunk(List<StagedMessage> Messages, List<Reject> Rejects);
