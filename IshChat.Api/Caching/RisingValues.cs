using System.Globalization;
using StackExchange.Redis;

namespace IshChat.Api.Caching;

/// <summary>A number to raise in Redis: its key, the value it must reach, and how long the key is kept.</summary>
public readonly record struct RisingValue(string Key, ulong Value, TimeSpan Lifetime);

/// <summary>
/// Numbers in Redis that only ever rise: two API replicas may report to one key out of order, and the higher report
/// must win. Kept outside PostgreSQL on purpose: they remember what clients were told even when a lossy failover
/// takes the database back in time. When Redis is down nothing is recorded and reads find nothing.
/// </summary>
public sealed class RisingValues(IConnectionMultiplexer redis, ILogger<RisingValues> logger)
{
    // Fixed-width hex text, so Lua's string order is numeric order. Every key a write raises goes in one call (a post
    // raises three): one round trip and one reply for Redis and the API to handle, not one per key.
    private const string RaiseScript = """
        for i, key in ipairs(KEYS) do
          local value, lifetime = ARGV[2 * i - 1], ARGV[2 * i]
          local current = redis.call('GET', key)
          if not current or current < value then
            redis.call('SET', key, value, 'PX', lifetime)
          else
            redis.call('PEXPIRE', key, lifetime)
          end
        end
        return 1
        """;

    /// <summary>Raises each key to at least its value and keeps it for its lifetime, all in one Redis call.</summary>
    public async Task RaiseAsync(IReadOnlyCollection<RisingValue> values, CancellationToken cancellationToken)
    {
        if (values.Count == 0)
        {
            return;
        }

        var keys = new RedisKey[values.Count];
        var arguments = new RedisValue[2 * values.Count];
        var i = 0;
        foreach (var value in values)
        {
            keys[i] = value.Key;
            arguments[2 * i] = value.Value.ToString("X16", CultureInfo.InvariantCulture);
            arguments[2 * i + 1] = (long)value.Lifetime.TotalMilliseconds;
            i++;
        }

        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(RaiseScript, keys, arguments).WaitAsync(cancellationToken);
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
                : ulong.Parse(value.ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (CacheFailures.IsCacheFailure(ex, cancellationToken))
        {
            logger.LogDebug("Could not read a rising value from Redis ({Message})", ex.Message);
            return null;
        }
    }
}
