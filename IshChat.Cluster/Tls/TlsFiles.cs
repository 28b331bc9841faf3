namespace IshChat.Cluster.Tls;

/// <summary>
/// How a certificate reaches a container: three files in <see cref="Directory"/>, the same names in every image
/// (documented in each containers/&lt;name&gt;/README.md), owned by the user the image runs as. Files, never
/// environment: <c>docker inspect</c> shows every variable.
/// </summary>
public static class TlsFiles
{
    public const string Directory = "/etc/ishchat/tls";

    /// <summary>The cluster CA's certificate: what a client in the container verifies servers against. Public, 0644.</summary>
    public const string CertificateAuthority = "ca.crt";

    /// <summary>The container's own certificate (PEM). Public, 0644.</summary>
    public const string Certificate = "server.crt";

    /// <summary>Its private key (PKCS#8 PEM), 0600: PostgreSQL refuses a key others can read.</summary>
    public const string PrivateKey = "server.key";

    /// <summary>
    /// A Patroni node's client certificate for etcd (PEM, 0644) and its key (0600): its server certificate carries a Common
    /// Name, which etcd's JSON gateway refuses once authentication is on (<see cref="ClusterCertificateAuthority.IssueWithoutCommonName"/>).
    /// </summary>
    public const string EtcdClientCertificate = "etcd-client.crt";

    /// <inheritdoc cref="EtcdClientCertificate"/>
    public const string EtcdClientKey = "etcd-client.key";

    public static string PathOf(string file) => $"{Directory}/{file}";

    /// <summary>
    /// How long a server certificate lives. Short on purpose: each is issued when its container is created, so every
    /// start renews it, and a cluster that runs for a week without one shows the renewal is missing (docs/security.md).
    /// </summary>
    public static TimeSpan ServerCertificateLifetime { get; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The names every server certificate carries besides its own: a developer and the tests reach each container
    /// through a host port on the loopback interface, and verify the name they dialled.
    /// </summary>
    public static IReadOnlyList<string> LoopbackNames { get; } = ["localhost", "127.0.0.1"];

    /// <summary>The files of a server known as <paramref name="names"/> (and <see cref="LoopbackNames"/>), freshly issued.</summary>
    public static IReadOnlyList<TlsFile> ForServer(ClusterCertificateAuthority authority, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var issued = authority.Issue(names.Concat(LoopbackNames), ServerCertificateLifetime);
        return
        [
            new(CertificateAuthority, authority.CertificatePem, Private: false),
            new(Certificate, issued.CertificatePem, Private: false),
            new(PrivateKey, issued.PrivateKeyPem, Private: true),
        ];
    }

    /// <summary>
    /// A Patroni node's files: its server certificate (<see cref="ForServer"/>, for the names in <paramref name="names"/>,
    /// the first being the node's own) and its etcd client certificate, which names the node but has no Common Name.
    /// </summary>
    public static IReadOnlyList<TlsFile> ForPatroniNode(ClusterCertificateAuthority authority, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(names);
        var etcdClient = authority.IssueWithoutCommonName(names[0], ServerCertificateLifetime);
        return
        [
            .. ForServer(authority, names),
            new(EtcdClientCertificate, etcdClient.CertificatePem, Private: false),
            new(EtcdClientKey, etcdClient.PrivateKeyPem, Private: true),
        ];
    }

    /// <summary>Only the CA: for a container that is a client and never a server (an exporter).</summary>
    public static IReadOnlyList<TlsFile> ForClient(ClusterCertificateAuthority authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return [new(CertificateAuthority, authority.CertificatePem, Private: false)];
    }
}

/// <summary>One file under <see cref="TlsFiles.Directory"/>; <paramref name="Private"/> files are 0600, the others 0644.</summary>
public sealed record TlsFile(string Name, string Content, bool Private)
{
    public UnixFileMode Mode => Private
        ? UnixFileMode.UserRead | UnixFileMode.UserWrite
        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
