using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using IshChat.Api.Data;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace IshChat.Api.Auth;

/// <summary>
/// Which instance an API key belongs to, remembered per replica. A revocation reaches every replica within about a
/// second (a Redis broadcast, <see cref="RevokedChannel"/>), and at the latest after
/// <see cref="ApiKeyCacheOptions.KnownKeyLifetime"/> when the broadcast is lost; an expiring key is never remembered
/// past its expiry. Unknown keys are remembered too, and lookups of new keys are capped, so a flood of guesses meets
/// memory and a queue, not the primary.
/// </summary>
public sealed class ApiKeyDirectory : IDisposable
{
    public static readonly RedisChannel RevokedChannel = RedisChannel.Literal("ishchat:api-keys:revoked");

    private readonly ChatDatabase database;
    private readonly ApiKeyCacheOptions options;
    private readonly IConnectionMultiplexer redis;
    private readonly ILogger<ApiKeyDirectory> logger;
    private readonly MemoryCache entries;
    private readonly ConcurrencyLimiter lookups;
    private readonly ConcurrentDictionary<string, Task<Entry>> inFlight = new(StringComparer.Ordinal);

    public ApiKeyDirectory(ChatDatabase database, IOptions<ApiKeyCacheOptions> options, IConnectionMultiplexer redis, ILogger<ApiKeyDirectory> logger)
    {
        this.database = database;
        this.options = options.Value;
        this.redis = redis;
        this.logger = logger;
        entries = new MemoryCache(new MemoryCacheOptions { SizeLimit = this.options.MaxEntries });
        lookups = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = this.options.MaxConcurrentLookups,
            QueueLimit = this.options.MaxQueuedLookups,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>The instance of the <paramref name="key"/>, or null for an unknown, revoked or expired key.</summary>
    /// <exception cref="LookupsExhaustedException">Too many lookups of new keys are already waiting.</exception>
    public async Task<InstanceContext?> FindAsync(PresentedKey key, CancellationToken cancellationToken)
    {
        if (entries.TryGetValue(key.HashHex, out Entry? remembered))
        {
            return remembered!.Instance;
        }

        // Concurrent requests with the same new key share one lookup.
        var lookup = inFlight.GetOrAdd(key.HashHex, _ => LookUpAsync(key.Hash, key.HashHex));
        return (await lookup.WaitAsync(cancellationToken)).Instance;
    }

    /// <summary>
    /// Not cancelled by the request that started it (others may be waiting for it); the database's own retry budget
    /// bounds it.
    /// </summary>
    private async Task<Entry> LookUpAsync(byte[] hash, string cacheKey)
    {
        // Never finish inside GetOrAdd's factory: the removal below must come after the task is in the map.
        await Task.Yield();
        try
        {
            using var lease = await lookups.AcquireAsync(1);
            if (!lease.IsAcquired)
            {
                throw new LookupsExhaustedException();
            }

            var found = await database.DirectoryAsync((connection, ct) => QueryAsync(connection, hash, ct), CancellationToken.None);
            var lifetime = found is null ? options.UnknownKeyLifetime : options.KnownKeyLifetime;
            var expires = DateTimeOffset.UtcNow + lifetime;
            if (found?.ExpiresAt is { } keyExpires && keyExpires < expires)
            {
                expires = keyExpires;
            }

            var entry = new Entry(found?.Instance);
            entries.Set(cacheKey, entry, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
            return entry;
        }
        finally
        {
            inFlight.TryRemove(cacheKey, out _);
        }
    }

    /// <summary>Forgets a revoked key here and tells every other replica to forget it too.</summary>
    public async Task RevokedAsync(byte[] hash)
    {
        var cacheKey = Convert.ToHexString(hash);
        entries.Remove(cacheKey);
        try
        {
            await redis.GetSubscriber().PublishAsync(RevokedChannel, cacheKey);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not broadcast a key revocation ({Message}); other replicas stop accepting the key within {Seconds} s",
                ex.Message, options.KnownKeyLifetime.TotalSeconds);
        }
    }

    /// <summary>Another replica revoked the key whose SHA-256 (hex) is <paramref name="cacheKey"/>.</summary>
    internal void Forget(string cacheKey) => entries.Remove(cacheKey);

    public void Dispose()
    {
        entries.Dispose();
        lookups.Dispose();
    }

    private static async Task<(InstanceContext Instance, DateTimeOffset? ExpiresAt)?> QueryAsync(NpgsqlConnection connection, byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT instance_id, instance_type, expires_at FROM chat.find_instance_by_key($1)", connection)
        {
            Parameters = { new() { Value = hash } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (new InstanceContext(reader.GetGuid(0), reader.GetString(1)),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
    }

    private sealed record Entry(InstanceContext? Instance);
}
