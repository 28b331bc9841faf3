using NpgsqlTypes;

namespace IshChat.Api.Caching;

/// <summary>
/// Per cache key, the WAL position of the newest write that changed what the key holds, kept in Redis
/// beside the entries of every API replica. A write raises its marker before it removes the entry; a
/// read then accepts a cached copy, or fills the cache, only at or past the marker. Removing the entry
/// alone leaves a race: a token-less read that missed the cache just before could still be reading a
/// replica that hasn't replayed the write, and store that older page after the removal, for the
/// entry's whole lifetime.
/// </summary>
public sealed class NewestWriteMarkers(RisingValues values)
{
    /// <summary>Longer than any cache entry lives (5 min), so a marker never expires before an entry older than it.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public static string KeyOf(string cacheKey) => $"{cacheKey}:newest-write";

    /// <summary>
    /// Records that a write committed at <paramref name="position"/> changed what each key holds, in one Redis call with
    /// the write's other rising values (<paramref name="alongside"/>, e.g. a post's acknowledged number).
    /// </summary>
    public Task RaiseAsync(IEnumerable<string> cacheKeys, NpgsqlLogSequenceNumber position, IEnumerable<RisingValue> alongside, CancellationToken cancellationToken) =>
        values.RaiseAsync([.. cacheKeys.Select(key => new RisingValue(KeyOf(key), (ulong)position, Lifetime)), .. alongside], cancellationToken);

    /// <summary>The newest write's position for <paramref name="cacheKey"/>, or null when none is recorded (or Redis is down).</summary>
    public async Task<NpgsqlLogSequenceNumber?> ReadAsync(string cacheKey, CancellationToken cancellationToken) =>
        await values.ReadAsync(KeyOf(cacheKey), cancellationToken) is { } position ? new NpgsqlLogSequenceNumber(position) : null;
}
