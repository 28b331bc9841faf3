namespace IshChat.AppHost.Hosting.Etcd;

/// <summary>One etcd member in its own container; its resource name is its DNS name on the network.</summary>
public sealed class EtcdMemberResource(string name, EtcdClusterResource cluster) : ContainerResource(name)
{
    public const string ClientEndpointName = "client";

    public EtcdClusterResource Cluster { get; } = cluster;

    public EndpointReference ClientEndpoint => field ??= new(this, ClientEndpointName);
}
