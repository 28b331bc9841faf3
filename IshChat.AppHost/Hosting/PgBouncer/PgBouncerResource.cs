using IshChat.AppHost.Hosting.Patroni;

namespace IshChat.AppHost.Hosting.PgBouncer;

/// <summary>
/// PgBouncer in transaction-pooling mode in front of HAProxy. Users are looked up in PostgreSQL
/// with auth_query, so the only credential it holds is its own auth user's.
/// </summary>
public sealed class PgBouncerResource(string name, PatroniClusterResource cluster) : ContainerResource(name)
{
    public const string PrimaryEndpointName = "tcp";

    public PatroniClusterResource Cluster { get; } = cluster;

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);
}
