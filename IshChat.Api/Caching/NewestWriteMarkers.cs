using NpgsqlTypes;
using StackExchange.Redis;

namespace IshChat.Api.Caching;

/// <summary>
/// Per cache key, the WAL position of the newest write that changed what the key holds, kept in Redis
/// beside the entries of every API replica. A write raises its marker before it removes the entry; a
/// read then accepts a cached copy, or fills the cache, only at or past the marker. Removing the entry
/// alone leaves a race: a token-less read that missed the cache just before could still be reading a
/// replica that hasn't replayed the write, and store that older page after the removal, for the
/// entry's whole lifetime.
/// </summary>
public sealed class NewestWriteMarkers(IConnectionMultiplexer redis, ILogger<NewestWriteMarkers> logger)
{
    /// <summary>Longer than any cache entry lives (5 min), so a marker never expires before an entry older than it.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    // Markers only rise: two API replicas' writes to one key may reach Redis out of commit order.
    // Positions are fixed-width hex text, so Lua's string order is WAL order.
    private const string RaiseScript = """
        local current = redis.call('GET', KEYS[1])
        if not current or current < ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        else
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 1
        """;

    public static string KeyOf(string cacheKey) => $"{cacheKey}:newest-write";

    /// <summary>Records that a write committed at <paramref name="position"/> changed what each key holds.</summary>
    public async Task RaiseAsync(IEnumerable<string> cacheKeys, NpgsqlLogSequenceNumber position, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var value = Encode(position);
        var lifetime = (long)Lifetime.TotalMilliseconds;
        try
        {
            await Task.WhenAll(cacheKeys.Select(key => database.ScriptEvaluateAsync(RaiseScript, [KeyOf(key)], [value, lifetime])))
                .WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Redis down: the cache is stepping aside too (reads go to the database), so nothing stale is served from it.
            logger.LogWarning("Could not record the newest write in Redis ({Message})", ex.Message);
        }
    }

    /// <summary>The newest write's position for <paramref name="cacheKey"/>, or null when none is recorded (or Redis is down).</summary>
    public async Task<NpgsqlLogSequenceNumber?> ReadAsync(string cacheKey, CancellationToken cancellationToken)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(KeyOf(cacheKey)).WaitAsync(cancellationToken);
            return value.IsNullOrEmpty ? null : Decode(value.ToString());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogDebug("Could not read the newest write from Redis ({Message})", ex.Message);
            return null;
        }
    }

    private static string Encode(NpgsqlLogSequenceNumber position) => ((ulong)position).ToString("X16", System.Globalization.CultureInfo.InvariantCulture);

    private static NpgsqlLogSequenceNumber Decode(string text) =>
        new(ulong.Parse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture));
}
