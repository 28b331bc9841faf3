using IshChat.AppHost.Hosting.Redis;
using IshChat.ServiceDefaults;

namespace IshChat.AppHost.Hosting.Api;

public static class ChatApiBuilderExtensions
{
    /// <summary>
    /// The chat API, the same in both topologies: its read-write and read-only databases (PgBouncer's entries, or the
    /// single server twice), optionally each instance type's own pools, the admin API's own role, the cache and the admin key; it starts once <paramref name="database"/> is healthy and
    /// the schema's migrations have completed.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddChatApi(
        this IDistributedApplicationBuilder builder,
        IResourceBuilder<IResourceWithConnectionString> readWrite,
        IResourceBuilder<IResourceWithConnectionString> readOnly,
        IResourceBuilder<IResourceWithConnectionString> admin,
        IResourceBuilder<IResource> database,
        IResourceBuilder<RedisResource> redis,
        IResourceBuilder<ProjectResource> migrations,
        int replicas,
        IEnumerable<IResourceBuilder<IResourceWithConnectionString>>? instanceTypePools = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var adminApiKey = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, ResourceNames.ApiAdminKey, special: false));
        var api = builder.AddProject<Projects.IshChat_Api>(ResourceNames.Api)
            .WithReplicas(replicas)
            .WithReference(readWrite).WaitFor(database)
            .WithReference(readOnly)
            .WithReference(admin)
            .WithCacheReference(redis)
            .WithEnvironment("Chat__AdminApiKey", adminApiKey)
            .WaitForCompletion(migrations);
        foreach (var pool in instanceTypePools ?? [])
        {
            api.WithReference(pool);
        }

        return api;
    }
}
