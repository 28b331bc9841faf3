using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.HAProxy;

/// <summary>
/// The IshChat database on the routing tier's read-write ports (the leader, no pooler in between) as a role sees it:
/// for clients that need a real session, like the migration step's DDL. The connection string lists every HAProxy
/// instance, so Npgsql tries the next when one is gone. Verified TLS: HAProxy passes TCP through, and the leader's
/// certificate names every HAProxy (and localhost), so the name dialled is checked end to end.
/// </summary>
public sealed class HAProxyDatabaseResource(string name, string role, ParameterResource password, HAProxyResource parent)
    : Resource(name), IResourceWithParent<HAProxyResource>, IResourceWithConnectionString
{
    public HAProxyResource Parent { get; } = parent;

    public string Role { get; } = role;

    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={MultiHost.Of(Parent.Instances.Select(i => i.ReadWriteEndpoint))};Username={Role};Password={Password};Database={ClusterRoles.Database};SSL Mode=VerifyFull;Root Certificate={Parent.Cluster.CertificateAuthority.HostFile}");
}
