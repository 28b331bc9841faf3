using StackExchange.Redis;

namespace IshChat.Api.Caching;

/// <summary>
/// Numbers in Redis that only ever rise: two API replicas may report to one key out of order, and the higher report
/// must win. Kept outside PostgreSQL on purpose: they remember what clients were told even when a lossy failover
/// takes the database back in time. When Redis is down nothing is recorded and reads find nothing.
/// </summary>
public sealed class RisingValues(IConnectionMultiplexer redis, ILogger<RisingValues> logger)
{
    // Fixed-width hex text, so Lua's string order is numeric order.
    private const string RaiseScript = """
        local current = redis.call('GET', KEYS[1])
        if not current or current < ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        else
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 1
        """;

    /// <summary>Raises each key to at least <paramref name="value"/> and keeps it for <paramref name="lifetime"/>.</summary>
    public async Task RaiseAsync(IEnumerable<string> keys, ulong value, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var encoded = value.ToString("X16", System.Globalization.CultureInfo.InvariantCulture);
        var milliseconds = (long)lifetime.TotalMilliseconds;
        try
        {
            await Task.WhenAll(keys.Select(key => database.ScriptEvaluateAsync(RaiseScript, [key], [encoded, milliseconds])))
                .WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogWarning("Could not record a rising value in Redis ({Message})", ex.Message);
        }
    }

    /// <summary>The key's value, or null when none is recorded (or Redis is down).</summary>
    public async Task<ulong?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(key).WaitAsync(cancellationToken);
            return value.IsNullOrEmpty
                ? null
                : ulong.Parse(value.ToString(), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogDebug("Could not read a rising value from Redis ({Message})", ex.Message);
            return null;
        }
    }
}
