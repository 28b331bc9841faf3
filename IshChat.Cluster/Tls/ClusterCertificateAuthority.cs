using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IshChat.Cluster.Tls;

/// <summary>
/// The cluster's own certificate authority: every server certificate (PostgreSQL, PgBouncer, …) is signed by it, and
/// every client in the cluster verifies servers against it and nothing else. The AppHost keeps one across restarts
/// (a secret parameter in its user secrets, like the passwords); each test cluster makes its own.
/// </summary>
/// <param name="CertificatePem">The CA certificate: public, what clients trust.</param>
/// <param name="PrivateKeyPem">The CA's private key: a secret, never handed to a container.</param>
public sealed record ClusterCertificateAuthority(string CertificatePem, string PrivateKeyPem)
{
    private const string SubjectName = "CN=IshChat cluster CA, O=IshChat";

    /// <summary>
    /// A new CA, valid for <paramref name="validity"/> (ten years by default: it outlives every cluster it serves), named
    /// <paramref name="subjectName"/> (the cluster's by default; pgBackRest's node-to-node CA has its own).
    /// </summary>
    public static ClusterCertificateAuthority Create(TimeSpan? validity = null, string subjectName = SubjectName)
    {
        // ECDSA P-256: every client here (libpq, PgBouncer's OpenSSL, Go, Python, .NET) speaks it, and a key takes
        // microseconds to make, so issuing every container's certificate at each start costs nothing.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subjectName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + (validity ?? TimeSpan.FromDays(3650)));
        return new(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Both PEM blocks in one text: how the AppHost stores the CA in one secret parameter.</summary>
    public string ToPem() => CertificatePem.TrimEnd() + "\n" + PrivateKeyPem.TrimEnd() + "\n";

    /// <summary>The CA stored by <see cref="ToPem"/>.</summary>
    public static ClusterCertificateAuthority FromPem(string pem)
    {
        ArgumentException.ThrowIfNullOrEmpty(pem);
        const string certificateEnd = "-----END CERTIFICATE-----";
        var split = pem.IndexOf(certificateEnd, StringComparison.Ordinal);
        if (split < 0 || !pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new FormatException("The cluster CA must be a PEM certificate followed by its PEM private key.");
        }

        var authority = new ClusterCertificateAuthority(pem[..(split + certificateEnd.Length)].Trim() + "\n", pem[(split + certificateEnd.Length)..].Trim() + "\n");
        // Fails here, with the CA's own name in the stack, rather than at the first container start.
        using var check = X509Certificate2.CreateFromPem(authority.CertificatePem, authority.PrivateKeyPem);
        return authority;
    }

    /// <summary>SHA-256 of the CA certificate, in hex: names the CA (its host file, log lines) without revealing anything.</summary>
    public string Thumbprint
    {
        get
        {
            using var certificate = X509Certificate2.CreateFromPem(CertificatePem);
            return certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
        }
    }

    /// <summary>
    /// A certificate for a server known by <paramref name="names"/> (DNS names, or IP addresses), signed by this CA and
    /// valid for <paramref name="lifetime"/>. Usable as a server's and as a client's certificate (TLS client
    /// authentication between members). Its key is new each time: nothing is reused across issues.
    /// </summary>
    public IssuedCertificate Issue(IEnumerable<string> names, TimeSpan lifetime) => Issue(names, lifetime, withCommonName: true);

    /// <summary>
    /// A client certificate for etcd's JSON gateway, named <paramref name="name"/> in its alternative names only: its
    /// subject is empty. With authentication on, etcd refuses every gateway request whose certificate has a Common Name
    /// (it would be ignored, not taken as the user: etcd-io/etcd#10366); the user logs in with a password instead.
    /// </summary>
    public IssuedCertificate IssueWithoutCommonName(string name, TimeSpan lifetime) => Issue([name], lifetime, withCommonName: false);

    private IssuedCertificate Issue(IEnumerable<string> names, TimeSpan lifetime, bool withCommonName)
    {
        ArgumentNullException.ThrowIfNull(names);
        var distinct = names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (distinct.Length == 0)
        {
            throw new ArgumentException("A certificate needs at least one name.", nameof(names));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        using var authority = X509Certificate2.CreateFromPem(CertificatePem, PrivateKeyPem);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(withCommonName ? new X500DistinguishedName($"CN={distinct[0]}") : new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var subjectAlternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var name in distinct)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                subjectAlternativeNames.AddIpAddress(address);
            }
            else
            {
                subjectAlternativeNames.AddDnsName(name);
            }
        }

        // An empty subject leaves the alternative names as the only name: RFC 5280 then wants them critical.
        request.CertificateExtensions.Add(subjectAlternativeNames.Build(critical: !withCommonName));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        // Strict verifiers (Python 3.13's default context, OpenSSL's X509_V_FLAG_X509_STRICT) want the issuer's key id.
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + lifetime < authority.NotAfter ? now + lifetime : authority.NotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01); // positive and never zero: strict verifiers refuse a negative serial
        using var certificate = request.Create(authority, now.AddMinutes(-5), notAfter, serial);
        return new IssuedCertificate(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), certificate.NotAfter.ToUniversalTime());
    }
}

/// <summary>A server's certificate and private key, PEM, and when it expires.</summary>
public sealed record IssuedCertificate(string CertificatePem, string PrivateKeyPem, DateTime NotAfter);
