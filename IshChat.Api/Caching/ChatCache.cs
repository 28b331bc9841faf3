using System.ComponentModel;
using System.Runtime.ExceptionServices;
using IshChat.Api.Data;
using IshChat.Api.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using NpgsqlTypes;

namespace IshChat.Api.Caching;

/// <summary>
/// Query results in HybridCache (memory, then Redis), each stamped with the WAL position it was
/// read at. A cached copy is served only if it is at least as new as both the client's consistency
/// token (its own writes) and the key's newest-write marker (everyone's writes,
/// <see cref="NewestWriteMarkers"/>); otherwise the read goes to a replica that has replayed that far,
/// or the primary, and refills the entry. So the cache never hides a committed write from anyone, not
/// even the memory copy of another API replica. When Redis is down the cache steps aside and every
/// read goes to the database.
/// </summary>
public sealed class ChatCache(HybridCache cache, NewestWriteMarkers markers, ApiMetrics metrics, ILogger<ChatCache> logger)
{
    // The in-memory copy is short-lived: another API replica's write removes the Redis entry, not this memory.
    private static readonly HybridCacheEntryOptions entryOptions = new()
    {
        Expiration = TimeSpan.FromMinutes(5),
        LocalCacheExpiration = TimeSpan.FromSeconds(2),
    };

    /// <summary>
    /// The entry under <paramref name="key"/> if it is new enough, else <paramref name="read"/>'s result (stored).
    /// <paramref name="read"/> gets the position it must reach (the newer of the client's token and the key's
    /// newest write) and must pass it to <see cref="ChatDatabase.ReadAsync{T}"/>.
    /// </summary>
    public async Task<ReadResult<T>> GetOrReadAsync<T>(
        string key, ConsistencyToken? token, Func<ConsistencyToken?, CancellationToken, Task<ReadResult<T>>> read, CancellationToken cancellationToken)
    {
        var required = Newer(token, await markers.ReadAsync(key, cancellationToken));
        ReadResult<T>? fresh = null;
        ExceptionDispatchInfo? readFailure = null;
        try
        {
            var cached = await cache.GetOrCreateAsync(key, async ct =>
            {
                try
                {
                    fresh = await read(required, ct);
                }
                catch (Exception ex)
                {
                    readFailure = ExceptionDispatchInfo.Capture(ex);
                    throw;
                }

                // "Not found" is never cached: a lagging replica's answer would outlive the row's arrival.
                return fresh.Value is null ? throw new NothingToCacheException() : new StampedValue<T>(fresh.Value, (ulong)fresh.Position);
            }, entryOptions, cancellationToken: cancellationToken);

            if (fresh is not null)
            {
                metrics.CacheLookup("miss");
                return fresh;
            }

            if (required is not { } floor || floor.IsReachedBy(new NpgsqlLogSequenceNumber(cached.Position)))
            {
                metrics.CacheLookup("hit");
                return new ReadResult<T>(cached.Value, ReadRoute.Cache, new NpgsqlLogSequenceNumber(cached.Position));
            }

            metrics.CacheLookup("stale");
        }
        catch (NothingToCacheException)
        {
            // Another caller's read found nothing; ours reads for itself below.
            metrics.CacheLookup("miss");
        }
        catch (Exception ex) when (readFailure is null && CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            metrics.CacheLookup("error");
            logger.LogWarning("Query cache unavailable ({Message}); reading from the database", ex.Message);
        }

        readFailure?.Throw();
        if (fresh is not null)
        {
            return fresh;
        }

        fresh = await read(required, cancellationToken);
        if (fresh.Value is not null)
        {
            await SetAsync(key, fresh, cancellationToken);
        }

        return fresh;
    }

    /// <summary>
    /// After a write committed at <paramref name="written"/>: raises the keys' newest-write markers first (so no
    /// older copy is served or stored from now on, by any API replica), then drops the entries. A cache that is
    /// down has nothing to drop. <paramref name="alongside"/>: the write's other rising values, raised in the same Redis call
    /// as the markers.
    /// </summary>
    public async Task InvalidateAsync(
        IReadOnlyCollection<string> keys, ConsistencyToken written, CancellationToken cancellationToken, params IEnumerable<RisingValue> alongside)
    {
        await markers.RaiseAsync(keys, written.Lsn, alongside, cancellationToken);
        try
        {
            await cache.RemoveAsync(keys, cancellationToken);
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogWarning("Query cache unavailable ({Message}); entries expire on their own", ex.Message);
        }
    }

    /// <summary>
    /// After a write committed at <paramref name="written"/> that also read what <paramref name="replacedKey"/> holds, exact
    /// at <paramref name="written"/> (read in its own transaction under the lock that orders such writes, and no other such
    /// write committed before <paramref name="written"/> was read: the caller checks): as <see cref="InvalidateAsync"/> for
    /// <paramref name="invalidated"/>, but <paramref name="replacedKey"/> is refilled with <paramref name="value"/> instead
    /// of dropped, so the writer's next read (read-your-writes, token <paramref name="written"/>) is a hit.
    /// </summary>
    public async Task ReplaceAsync<T>(
        string replacedKey, T value, IReadOnlyCollection<string> invalidated, ConsistencyToken written, CancellationToken cancellationToken,
        params IEnumerable<RisingValue> alongside)
    {
        await markers.RaiseAsync(invalidated.Append(replacedKey), written.Lsn, alongside, cancellationToken);
        try
        {
            await Task.WhenAll(
                cache.RemoveAsync(invalidated, cancellationToken).AsTask(),
                cache.SetAsync(replacedKey, new StampedValue<T>(value, (ulong)written.Lsn), entryOptions, cancellationToken: cancellationToken).AsTask());
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogWarning("Query cache unavailable ({Message}); entries expire on their own", ex.Message);
        }
    }

    private async Task SetAsync<T>(string key, ReadResult<T> fresh, CancellationToken cancellationToken)
    {
        try
        {
            await cache.SetAsync(key, new StampedValue<T>(fresh.Value, (ulong)fresh.Position), entryOptions, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogDebug("Query cache unavailable ({Message})", ex.Message);
        }
    }

    private static ConsistencyToken? Newer(ConsistencyToken? token, NpgsqlLogSequenceNumber? newestWrite) =>
        newestWrite is not { } marker ? token
        : token is { } own && own.IsReachedBy(marker) ? own
        : new ConsistencyToken(marker);

    /// <summary>
    /// What the cache holds: a value and the WAL position it is at least as new as. Immutable to HybridCache, so a memory
    /// hit hands out the stored object instead of deserialising a copy per request: no caller changes what it reads.
    /// </summary>
    [ImmutableObject(true)]
    public sealed record StampedValue<T>(T Value, ulong Position);

    private sealed class NothingToCacheException : Exception;
}

/// <summary>One place for cache keys, so a write removes exactly what the reads stored.</summary>
public static class CacheKeys
{
    public static string Session(Guid instanceId, Guid sessionId) => $"ishchat:{instanceId:N}:session:{sessionId:N}";

    public static string LatestMessages(Guid instanceId, Guid sessionId) => $"ishchat:{instanceId:N}:messages:{sessionId:N}:latest";

    public static string HighestAcknowledgedSeq(Guid instanceId, Guid sessionId) => $"ishchat:{instanceId:N}:messages:{sessionId:N}:highest-acknowledged-seq";

    public static string ActiveSessions(Guid instanceId) => $"ishchat:{instanceId:N}:sessions:active";

    public static string ApiKey(string keyHashHex) => $"ishchat:apikey:{keyHashHex}";
}
