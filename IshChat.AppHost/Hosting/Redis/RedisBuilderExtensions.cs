using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.Redis;

public static class RedisBuilderExtensions
{
    /// <summary>
    /// Adds the chat API's cache: Aspire's own Redis resource (its generated password, health check and connection
    /// string), run on our image built from containers/redis instead of a pulled one, on the developer's fixed host port.
    /// </summary>
    public static IResourceBuilder<RedisResource> AddCache(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.AddRedis(name, port: HostPorts.From(builder.Configuration).Redis)
            .WithClusterImage(ClusterImages.Redis)
            .WithDevelopmentContainerName();
    }
}
