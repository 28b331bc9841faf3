using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Tls;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Redis;

public static class RedisBuilderExtensions
{
    /// <summary>
    /// Adds the chat API's cache: Aspire's own Redis resource (its generated password and connection string), run on our
    /// image built from containers/redis instead of a pulled one, on the developer's fixed host port. With
    /// <paramref name="certificateAuthority"/>, Redis serves TLS only, with a certificate that CA issues (plaintext is
    /// refused), and every client the AppHost wires verifies it against that CA; without (<c>--single</c>), plain.
    /// </summary>
    public static IResourceBuilder<RedisResource> AddCache(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<CertificateAuthorityResource>? certificateAuthority = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var redis = builder.AddRedis(name, port: HostPorts.From(builder.Configuration).Redis)
            .WithClusterImage(ClusterImages.Redis)
            .WithDevelopmentContainerName();
        return certificateAuthority is null ? redis : redis.WithClusterTls(certificateAuthority.Resource);
    }

    /// <summary>
    /// References the cache from <paramref name="builder"/> and waits for it; where Redis serves the cluster CA's TLS,
    /// also hands over the CA certificate's file (<see cref="RedisTls.CertificateAuthorityFileKey"/>), which the client
    /// must trust alone: the connection string can only say <c>ssl=true</c>.
    /// </summary>
    public static IResourceBuilder<T> WithCacheReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<RedisResource> redis)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(redis);
        builder.WithReference(redis).WaitFor(redis);
        if (redis.Resource.CertificateAuthority() is { } authority)
        {
            builder.WithEnvironment(RedisTls.CertificateAuthorityFileKey.Replace(":", "__", StringComparison.Ordinal), ReferenceExpression.Create($"{authority.HostFile}"));
        }

        return builder;
    }

    /// <summary>The CA whose certificate Redis serves, or null when it serves plaintext.</summary>
    public static CertificateAuthorityResource? CertificateAuthority(this RedisResource redis) =>
        redis.TryGetLastAnnotation<RedisTlsAnnotation>(out var tls) ? tls.Authority : null;

    private static IResourceBuilder<RedisResource> WithClusterTls(this IResourceBuilder<RedisResource> redis, CertificateAuthorityResource authority)
    {
        var healthCheckKey = $"{redis.Resource.Name}_tls";
        var health = new RedisTlsHealthCheck(redis.Resource, authority);
        redis.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => health, HealthStatus.Unhealthy, tags: null));
        // Aspire's own check connects with the connection string alone, trusting only the machine's store: it would never
        // pass. Ours (the same PING) trusts the cluster CA.
        foreach (var aspireCheck in redis.Resource.Annotations.OfType<HealthCheckAnnotation>().ToList())
        {
            redis.Resource.Annotations.Remove(aspireCheck);
        }

        return redis
            .WithAnnotation(new RedisTlsAnnotation(authority))
            .WithServerCertificate(authority, ClusterImages.Redis, () => ServerNames.Redis(redis.Resource.Name))
            // TLS on Redis's one port and no plaintext port at all (port 0). Clients authenticate with the password, not
            // a certificate (tls-auth-clients no); the CA file is where Redis would check one.
            .WithArgs(
                "--port", "0",
                "--tls-port", $"{ClusterPorts.Redis}",
                "--tls-cert-file", TlsFiles.PathOf(TlsFiles.Certificate),
                "--tls-key-file", TlsFiles.PathOf(TlsFiles.PrivateKey),
                "--tls-ca-cert-file", TlsFiles.PathOf(TlsFiles.CertificateAuthority),
                "--tls-auth-clients", "no")
            // The connection string Aspire hands out then carries ssl=true (RedisResource.TlsEnabled).
            .WithEndpoint(redis.Resource.PrimaryEndpoint.EndpointName, endpoint =>
            {
                endpoint.TlsEnabled = true;
                endpoint.UriScheme = "rediss";
            })
            .WithHealthCheck(healthCheckKey);
    }

    private sealed record RedisTlsAnnotation(CertificateAuthorityResource Authority) : IResourceAnnotation;
}
