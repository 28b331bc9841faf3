namespace IshChat.Migrate.Target;

/// <summary>
/// import's unit of work for messages: whole sessions, adjacent in session_id order. The messages' two unique
/// indexes lead with (instance_id, session_id), so a chunk of adjacent sessions writes one region of each instead of
/// touching every leaf page (what a range of legacy ids did: its messages belong to sessions all over the file).
/// The plan is made once, from the sessions the import committed, and kept in the checkpoint
/// (chat.legacy_imports.chunk_bounds): a resumed run, whatever its --chunk, writes the same chunks.
/// </summary>
public static class SessionChunks
{
    /// <summary>
    /// The first session_id of each chunk: sessions in session_id order, a new chunk once the current one holds at least
    /// <paramref name="messagesPerChunk"/> messages. A session is never split, so a busy one may make a chunk bigger.
    /// </summary>
    public static Guid[] Plan(IEnumerable<(Guid SessionId, long Messages)> sessions, long messagesPerChunk)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messagesPerChunk);
        var bounds = new List<Guid>();
        var inChunk = long.MaxValue;
        // Guid.CompareTo orders as PostgreSQL's uuid does (the bytes as written, most significant first).
        foreach (var (sessionId, messages) in sessions.OrderBy(s => s.SessionId))
        {
            if (inChunk >= messagesPerChunk)
            {
                bounds.Add(sessionId);
                inChunk = 0;
            }

            inChunk += messages;
        }

        return [.. bounds];
    }

    /// <summary>The chunk a session belongs to: the last whose first session_id is not after it.</summary>
    public static int ChunkOf(Guid[] bounds, Guid sessionId)
    {
        var i = Array.BinarySearch(bounds, sessionId);
        return i >= 0 ? i : Math.Max(~i - 1, 0);
    }

    /// <summary>
    /// Each chunk's legacy session ids, in session_id order (so its messages go out in index order), for the sessions
    /// the import committed (legacy id → session_id).
    /// </summary>
    public static List<long>[] Assign(Guid[] bounds, IReadOnlyDictionary<long, Guid> sessions)
    {
        var chunks = Enumerable.Range(0, bounds.Length).Select(_ => new List<long>()).ToArray();
        foreach (var (legacyId, sessionId) in sessions.OrderBy(p => p.Value))
        {
            chunks[ChunkOf(bounds, sessionId)].Add(legacyId);
        }

        return chunks;
    }
}
