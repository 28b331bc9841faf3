namespace IshChat.Api.Caching;

internal static class CacheFailures
{
    /// <summary>
    /// A cache that is down or slow fails the call, and RedisCache reports its own time-out as a cancellation: only a
    /// cancellation the caller asked for is not a cache failure.
    /// </summary>
    public static bool IsCacheFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested;
}
