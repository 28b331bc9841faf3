namespace IshChat.AppHost.Hosting.Etcd;

/// <summary>An etcd cluster: the distributed configuration store Patroni elects its leader in.</summary>
public sealed class EtcdClusterResource(string name) : Resource(name)
{
    private readonly List<EtcdMemberResource> members = [];

    public IReadOnlyList<EtcdMemberResource> Members => members;

    /// <summary>Keeps two clusters started side by side from joining each other.</summary>
    public string ClusterToken => $"ishchat-{Name}";

    /// <summary>The client URLs of the members whose endpoints are allocated, as the AppHost's process reaches them.</summary>
    public IReadOnlyList<Uri> ClientUrls() => [.. members
        .Select(member => new EndpointReference(member, EtcdMemberResource.ClientEndpointName))
        .Where(endpoint => endpoint.IsAllocated)
        .Select(endpoint => new Uri(endpoint.Url))];

    internal void AddMember(EtcdMemberResource member) => members.Add(member);
}
