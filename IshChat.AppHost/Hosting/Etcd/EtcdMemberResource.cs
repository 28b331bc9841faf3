namespace IshChat.AppHost.Hosting.Etcd;

/// <summary>One etcd member in its own container; its resource name is its DNS name on the network.</summary>
public sealed class EtcdMemberResource(string name, EtcdClusterResource cluster) : ContainerResource(name)
{
    public const string ClientEndpointName = "client";

    public EtcdClusterResource Cluster { get; } = cluster;

    public EndpointReference ClientEndpoint => field ??= new(this, ClientEndpointName);

    /// <summary>
    /// The client API's host URL once the orchestrator has allocated it, else null. Asks a fresh reference each time:
    /// <see cref="EndpointReference.IsAllocated"/> remembers its first answer.
    /// </summary>
    public Uri? ClientUrlIfAllocated => new EndpointReference(this, ClientEndpointName) is { IsAllocated: true } client ? new Uri(client.Url + "/") : null;
}
