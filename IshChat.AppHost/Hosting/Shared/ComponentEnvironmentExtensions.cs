namespace IshChat.AppHost.Hosting.Shared;

internal static class ComponentEnvironmentExtensions
{
    /// <summary>
    /// Applies an environment from <see cref="ComponentEnvironment"/>, computed when the container
    /// starts (so settings changed later in the fluent chain still count). Secrets become references
    /// to Aspire parameters, so their values never appear in the model or a manifest; a secret wanted
    /// only as its SCRAM verifier is hashed from the parameter's value at that moment.
    /// </summary>
    public static IResourceBuilder<T> WithComponentEnvironment<T>(
        this IResourceBuilder<T> builder,
        Func<IReadOnlyDictionary<string, EnvironmentValue>> environment,
        Func<ClusterSecret, ParameterResource> secrets)
        where T : IResourceWithEnvironment =>
        builder.WithEnvironment(async context =>
        {
            foreach (var (name, value) in environment())
            {
                context.EnvironmentVariables[name] = value switch
                {
                    { Secret: { } secret, AsVerifier: true } => ScramVerifier.Of(await secrets(secret).GetValueAsync(context.CancellationToken)
                        ?? throw new InvalidOperationException($"The secret parameter {secrets(secret).Name} has no value.")),
                    { Secret: { } secret } => secrets(secret),
                    _ => value.Literal!,
                };
            }
        });
}
