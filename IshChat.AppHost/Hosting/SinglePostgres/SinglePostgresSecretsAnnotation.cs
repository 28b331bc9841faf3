namespace IshChat.AppHost.Hosting.SinglePostgres;

/// <summary>The role passwords of a server added with AddSinglePostgres, for its role connection strings.</summary>
internal sealed record SinglePostgresSecretsAnnotation(IReadOnlyDictionary<ClusterSecret, ParameterResource> Secrets) : IResourceAnnotation;
