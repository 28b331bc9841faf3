namespace IshChat.AppHost.Hosting.HAProxy;

/// <summary>
/// The IshChat database on HAProxy's read-write port (the leader, no pooler in between) as a
/// role sees it: for clients that need a real session, like the migration step's DDL.
/// </summary>
public sealed class HAProxyDatabaseResource(string name, string role, ParameterResource password, HAProxyResource parent)
    : Resource(name), IResourceWithParent<HAProxyResource>, IResourceWithConnectionString
{
    public HAProxyResource Parent { get; } = parent;

    public string Role { get; } = role;

    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Parent.ReadWriteEndpoint.Property(EndpointProperty.Host)};Port={Parent.ReadWriteEndpoint.Property(EndpointProperty.Port)};Username={Role};Password={Password};Database={ClusterRoles.Database}");
}
