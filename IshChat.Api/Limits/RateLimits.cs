using System.Globalization;
using System.Threading.RateLimiting;
using IshChat.Api.Auth;
using Microsoft.AspNetCore.RateLimiting;

namespace IshChat.Api.Limits;

/// <summary>
/// Requests each API key (or, without one, each client address) may make, per API replica: a token bucket, so short
/// bursts pass and a steady flood is cut to the refill rate. Configuration section <c>Chat:RateLimits</c>. The defaults
/// sit far above what one chat client does and above the API benchmark's busiest key (docs/security.md).
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Chat:RateLimits";

    /// <summary>Sustained requests per second per key.</summary>
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>Requests a key may make at once after being idle.</summary>
    public int Burst { get; set; } = 2000;

    /// <summary>
    /// Sustained requests per second per client address for requests without a key (every one of them a 401): little
    /// work each, but nobody's. Behind a proxy every client shares its address; configure forwarded headers there.
    /// </summary>
    public int UnkeyedPermitsPerSecond { get; set; } = 20;

    /// <summary>Requests without a key one address may make at once.</summary>
    public int UnkeyedBurst { get; set; } = 40;

    /// <summary>Off: every request passes (a test or benchmark that measures the cluster, not the limiter).</summary>
    public bool Enabled { get; set; } = true;
}

public static class RateLimits
{
    /// <summary>Health, liveness and metrics are for the platform, never a tenant's budget.</summary>
    private static readonly string[] exemptPaths = ["/health", "/alive", "/metrics"];

    public static IServiceCollection AddChatRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (options.PermitsPerSecond <= 0 || options.Burst <= 0 || options.UnkeyedPermitsPerSecond <= 0 || options.UnkeyedBurst <= 0)
        {
            throw new InvalidOperationException($"{RateLimitOptions.Section}: every rate and burst must be positive.");
        }

        return services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => PartitionOf(http, options) is { } partition
                ? RateLimitPartition.GetTokenBucketLimiter(partition, key => key.StartsWith(KeyedPrefix, StringComparison.Ordinal)
                    ? Bucket(options.PermitsPerSecond, options.Burst)
                    : Bucket(options.UnkeyedPermitsPerSecond, options.UnkeyedBurst))
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = RejectAsync;
        });
    }

    private const string KeyedPrefix = "key:";

    private static TokenBucketRateLimiterOptions Bucket(int permitsPerSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = permitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static string? PartitionOf(HttpContext http, RateLimitOptions options)
    {
        if (!options.Enabled || exemptPaths.Any(p => http.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        // The key's hash, never the key: partitions are kept in memory and may show up in a dump.
        return PresentedKey.Of(http) is { } key
            ? KeyedPrefix + key.HashHex
            : "address:" + http.Connection.RemoteIpAddress;
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"More requests than this API key (or, without one, this address) may make; retry after {retryAfter} s.",
            },
        });
    }
}
