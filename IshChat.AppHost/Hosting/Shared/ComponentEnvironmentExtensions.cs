namespace IshChat.AppHost.Hosting.Shared;

internal static class ComponentEnvironmentExtensions
{
    /// <summary>
    /// Applies an environment from <see cref="ComponentEnvironment"/>, computed when the container
    /// starts (so settings changed later in the fluent chain still count). Secrets become references
    /// to Aspire parameters, so their values never appear in the model or a manifest.
    /// </summary>
    public static IResourceBuilder<T> WithComponentEnvironment<T>(
        this IResourceBuilder<T> builder,
        Func<IReadOnlyDictionary<string, EnvironmentValue>> environment,
        Func<ClusterSecret, ParameterResource> secrets)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context =>
        {
            foreach (var (name, value) in environment())
            {
                context.EnvironmentVariables[name] = value.Secret is { } secret ? secrets(secret) : value.Literal!;
            }
        });
}
