using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// Healthy when a GET of <c>url</c> answers 2xx over the cluster's own TLS: Aspire's HTTP health check has no way to
/// trust the cluster CA or show the client certificate etcd asks for, so this one takes the client that can.
/// </summary>
internal sealed class HttpsHealthCheck(Func<Uri?> url, HttpClient http) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (url() is not { } target)
        {
            return HealthCheckResult.Unhealthy("No endpoint allocated yet.");
        }

        try
        {
            using var response = await http.GetAsync(target, cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{target} answered {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }
}
