namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>
/// One PostgreSQL server with its Patroni agent; the resource name is its DNS name and Patroni member name. A spare
/// (<see cref="PatroniBuilderExtensions.WithSpareReplicas"/>) is declared with its volume but starts only when asked.
/// </summary>
public sealed class PatroniNodeResource(string name, int index, PatroniClusterResource cluster, bool isSpare = false) : ContainerResource(name)
{
    public const string PostgresEndpointName = "postgres";
    public const string RestEndpointName = "rest";

    public int Index { get; } = index;

    public PatroniClusterResource Cluster { get; } = cluster;

    /// <summary>A spare node slot: not started with the AppHost; "Add replica" starts it, "Remove replica" stops it again.</summary>
    public bool IsSpare { get; } = isSpare;

    public EndpointReference PostgresEndpoint => field ??= new(this, PostgresEndpointName);

    public EndpointReference RestEndpoint => field ??= new(this, RestEndpointName);

    /// <summary>
    /// The REST API's host URL once the orchestrator has allocated it, else null. Asks a fresh
    /// reference each time: <see cref="EndpointReference.IsAllocated"/> remembers its first answer.
    /// </summary>
    public Uri? RestUrlIfAllocated => new EndpointReference(this, RestEndpointName) is { IsAllocated: true } rest ? new Uri(rest.Url + "/") : null;
}
