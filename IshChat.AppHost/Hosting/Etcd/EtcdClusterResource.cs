using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.Cluster.Etcd;

namespace IshChat.AppHost.Hosting.Etcd;

/// <summary>
/// An etcd cluster: the distributed configuration store Patroni elects its leader in. Its members speak TLS only, to
/// clients and to each other, and take only clients with a certificate <paramref name="certificateAuthority"/> issued.
/// </summary>
public sealed class EtcdClusterResource(string name, CertificateAuthorityResource certificateAuthority) : Resource(name)
{
    private readonly List<EtcdMemberResource> members = [];

    public IReadOnlyList<EtcdMemberResource> Members => members;

    /// <summary>Signs every member's certificate, and the client certificates etcd accepts.</summary>
    public CertificateAuthorityResource CertificateAuthority { get; } = certificateAuthority;

    /// <summary>Keeps two clusters started side by side from joining each other.</summary>
    public string ClusterToken => $"ishchat-{Name}";

    /// <summary>The client URLs of the members whose endpoints are allocated, as the AppHost's process reaches them.</summary>
    public IReadOnlyList<Uri> ClientUrls() => [.. members.Select(member => member.ClientUrlIfAllocated).OfType<Uri>()];

    /// <summary>Patroni's leader key of <paramref name="scope"/>, read and released by the AppHost with its client certificate.</summary>
    public EtcdLeaderKey LeaderKey(string scope) => new(CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(3)), scope);

    internal void AddMember(EtcdMemberResource member) => members.Add(member);
}
