namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>One PostgreSQL server with its Patroni agent; the resource name is its DNS name and Patroni member name.</summary>
public sealed class PatroniNodeResource(string name, int index, PatroniClusterResource cluster) : ContainerResource(name)
{
    public const string PostgresEndpointName = "postgres";
    public const string RestEndpointName = "rest";

    public int Index { get; } = index;

    public PatroniClusterResource Cluster { get; } = cluster;

    public EndpointReference PostgresEndpoint => field ??= new(this, PostgresEndpointName);

    public EndpointReference RestEndpoint => field ??= new(this, RestEndpointName);

    /// <summary>
    /// The REST API's host URL once the orchestrator has allocated it, else null. Asks a fresh
    /// reference each time: <see cref="EndpointReference.IsAllocated"/> remembers its first answer.
    /// </summary>
    public Uri? RestUrlIfAllocated => new EndpointReference(this, RestEndpointName) is { IsAllocated: true } rest ? new Uri(rest.Url + "/") : null;
}
