namespace IshChat.AppHost.Hosting.SinglePostgres;

/// <summary>The single server's IshChat database as one of the cluster's roles (the API's, the migrator's): a connection string.</summary>
public sealed class SinglePostgresRoleConnectionResource(string name, PostgresServerResource server, string role, ParameterResource password)
    : Resource(name), IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public PostgresServerResource Parent { get; } = server;

    public string Role { get; } = role;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Parent.PrimaryEndpoint.Property(EndpointProperty.Host)};Port={Parent.PrimaryEndpoint.Property(EndpointProperty.Port)};Username={Role};Password={password};Database={ClusterRoles.Database}");
}
