using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace IshChat.AppHost.Hosting.Redis;

/// <summary>
/// Healthy when Redis answers PING over TLS verified against the cluster CA. Replaces Aspire's Redis health check, which
/// connects with the connection string alone and so trusts only the machine's store: it would never see Redis healthy.
/// </summary>
internal sealed class RedisTlsHealthCheck(RedisResource redis, CertificateAuthorityResource authority) : IHealthCheck, IAsyncDisposable
{
    private readonly SemaphoreSlim connecting = new(1, 1);
    private ConnectionMultiplexer? connection;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var multiplexer = await ConnectAsync(cancellationToken);
            await multiplexer.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        await connecting.WaitAsync(cancellationToken);
        try
        {
            if (connection is { IsConnected: true })
            {
                return connection;
            }

            connection?.Dispose();
            connection = null;
            var options = ConfigurationOptions.Parse(await redis.GetConnectionStringAsync(cancellationToken)
                ?? throw new InvalidOperationException($"{redis.Name} has no connection string yet."));
            options.AbortOnConnectFail = true;
            options.ConnectRetry = 0;
            options.ConnectTimeout = 3000;
            options.CertificateValidation += RedisTls.TrustOnly(await authority.HostFile.GetValueAsync(cancellationToken)
                ?? throw new InvalidOperationException("The cluster CA has no file."));
            return connection = await ConnectionMultiplexer.ConnectAsync(options);
        }
        finally
        {
            connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        connecting.Dispose();
    }
}
