using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

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
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ishchat-backup-ca", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + (validity ?? TimeSpan.FromDays(3650)));
        return new(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The value of <paramref name="secret"/> when it is one of the CA's.</summary>
    public string? Resolve(BackupSecret secret) => secret switch
    {
        BackupSecret.CertificateAuthorityCertificate => CertificatePem,
        BackupSecret.CertificateAuthorityKey => PrivateKeyPem,
        _ => null,
    };
}
