using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using IshChat.Cluster.Backup;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.BackupStore;

/// <summary>
/// Healthy when the store answers an authenticated "Get Container Properties" for the repository's container, in
/// the Blob API's own Shared Key scheme: the account key works and the container pgBackRest writes to exists. A
/// port that merely accepts connections is not a usable backup target.
/// </summary>
internal sealed class BackupStoreHealthCheck(BackupStoreResource store) : IHealthCheck
{
    private const string ApiVersion = "2021-10-04";

    // HACK: the store's certificate is self-signed (made on its volume at first start) and only reached from this
    // machine; trusting it would need the CA of a future certificate-authority component.
    private static readonly HttpClient http = new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    }) { Timeout = TimeSpan.FromSeconds(3) };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var key = await store.StoreKey.GetValueAsync(cancellationToken);
        if (key is null || !store.BlobEndpoint.IsAllocated)
        {
            return HealthCheckResult.Unhealthy("No endpoint or key yet.");
        }

        var repository = store.Repository;
        var path = $"/{repository.Account}/{repository.Container}";
        var date = DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture);
        // Path-style: the canonical resource repeats the account (/account + /account/container).
        var stringToSign = $"HEAD\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{ApiVersion}\n/{repository.Account}{path}\nrestype:container";
        using var hmac = new HMACSHA256(Convert.FromBase64String(key));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));

        using var request = new HttpRequestMessage(HttpMethod.Head, $"https://{store.BlobEndpoint.Host}:{store.BlobEndpoint.Port}{path}?restype=container");
        request.Headers.Add("x-ms-date", date);
        request.Headers.Add("x-ms-version", ApiVersion);
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {repository.Account}:{signature}");
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => HealthCheckResult.Healthy(),
                HttpStatusCode.NotFound => HealthCheckResult.Unhealthy($"The container '{repository.Container}' does not exist (yet)."),
                var status => HealthCheckResult.Unhealthy($"The store answered {(int)status} {status} to an authenticated request."),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }
}
