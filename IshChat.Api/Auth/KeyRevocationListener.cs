using StackExchange.Redis;

namespace IshChat.Api.Auth;

/// <summary>
/// Listens for revocations broadcast by other replicas. Subscribes again until Redis answers; once subscribed, the
/// Redis client restores the subscription after every reconnect.
/// </summary>
public sealed class KeyRevocationListener(ApiKeyDirectory directory, IConnectionMultiplexer redis, ILogger<KeyRevocationListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(ApiKeyDirectory.RevokedChannel, (_, message) => directory.Forget(message.ToString()));
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Not subscribed to key revocations yet ({Message}); retrying in 5 s", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }
}
