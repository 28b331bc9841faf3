using IshChat.Api.Caching;

namespace IshChat.Api.Messages;

/// <summary>
/// Per session, the highest message number ever acknowledged to a client, kept in Redis (outside the database).
/// An asynchronous failover may lose the last commits; the new primary's counter is then behind numbers clients
/// already hold as cursors. Posts number from above this mark, so no number is handed out twice with different
/// content and a client polling <c>after=&lt;its cursor&gt;</c> sees every message posted after the failover.
/// With Redis down (or the mark expired) numbering falls back to the database's counter alone.
/// </summary>
public sealed class AcknowledgedSequences(RisingValues values)
{
    /// <summary>How long a quiet session's mark is kept: far longer than a failover's window, and Redis stays small.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    public async Task<long> HighestAsync(Guid instanceId, Guid sessionId, CancellationToken cancellationToken) =>
        (long)(await values.ReadAsync(CacheKeys.HighestAcknowledgedSeq(instanceId, sessionId), cancellationToken) ?? 0);

    /// <summary>The mark to raise once <paramref name="seq"/> is acknowledged: raised with the write's other marks, in one Redis call.</summary>
    public static RisingValue Acknowledged(Guid instanceId, Guid sessionId, long seq) =>
        new(CacheKeys.HighestAcknowledgedSeq(instanceId, sessionId), (ulong)seq, Lifetime);
}
