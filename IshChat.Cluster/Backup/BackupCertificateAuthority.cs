using IshChat.Cluster.Tls;

namespace IshChat.Cluster.Backup;

/// <summary>
/// A private CA for pgBackRest's node-to-node TLS: each Patroni node signs its own certificate with it at start
/// (containers/patroni/render-pgbackrest-config.py), and accepts only peers signed by it. Made per run: the node
/// certificates are re-signed at every container start, so nothing depends on it lasting.
/// </summary>
public sealed record BackupCertificateAuthority(string CertificatePem, string PrivateKeyPem)
{
    public static BackupCertificateAuthority Create(TimeSpan? validity = null)
    {
        var authority = ClusterCertificateAuthority.Create(validity, "CN=ishchat-backup-ca");
        return new(authority.CertificatePem, authority.PrivateKeyPem);
    }

    /// <summary>The value of <paramref name="secret"/> when it is one of the CA's.</summary>
    public string? Resolve(BackupSecret secret) => secret switch
    {
        BackupSecret.CertificateAuthorityCertificate => CertificatePem,
        BackupSecret.CertificateAuthorityKey => PrivateKeyPem,
        _ => null,
    };
}
