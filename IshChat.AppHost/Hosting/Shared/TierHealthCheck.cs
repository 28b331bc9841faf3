using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// The health of a tier of identical instances: healthy when every instance is, degraded (still serving) while at
/// least one is, unhealthy when none is.
/// </summary>
internal sealed class TierHealthCheck(IReadOnlyList<IHealthCheck> instances, string what) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var results = await Task.WhenAll(instances.Select(i => i.CheckHealthAsync(context, cancellationToken)));
        var healthy = results.Count(r => r.Status == HealthStatus.Healthy);
        var summary = $"{healthy} of {instances.Count} {what}";
        return healthy == instances.Count ? HealthCheckResult.Healthy(summary)
            : healthy > 0 ? HealthCheckResult.Degraded(summary)
            : HealthCheckResult.Unhealthy(summary);
    }
}
