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
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Requests a key may make at once after being idle.</summary>
    public int Burst { get; set; } = 400;

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
        if (options.PermitsPerSecond <= 0 || options.Burst <= 0)
        {
            throw new InvalidOperationException($"{RateLimitOptions.Section}: PermitsPerSecond and Burst must be positive.");
        }

        return services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => PartitionOf(http, options) is { } partition
                ? RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = RejectAsync;
        });
    }

    private static string? PartitionOf(HttpContext http, RateLimitOptions options)
    {
        if (!options.Enabled || exemptPaths.Any(p => http.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        // The key's hash, never the key: partitions are kept in memory and may show up in a dump.
        return InstanceKeyFilter.TryReadKey(http, out var key)
            ? "key:" + Convert.ToHexString(ApiKeys.Hash(key))
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
                Detail = $"This API key made more than its limit of requests; retry after {retryAfter} s.",
            },
        });
    }
}
