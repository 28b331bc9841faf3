using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IshChat.ServiceDefaults;

/// <summary>
/// How a client verifies the cache's TLS certificate when it comes from the cluster's own CA (docs/security.md). The
/// connection string (<c>ssl=true</c>) can't name a CA file, so the AppHost hands the file's path in a setting of its
/// own; where the setting is absent (Azure Cache for Redis, a plain bench Redis) the machine's trust store decides.
/// </summary>
public static class RedisTls
{
    /// <summary>The setting (<c>Redis__CertificateAuthorityFile</c> in the environment) naming the CA certificate's PEM file.</summary>
    public const string CertificateAuthorityFileKey = "Redis:CertificateAuthorityFile";

    /// <summary>
    /// Accepts a server certificate only if it names the host dialled and chains to the certificate in
    /// <paramref name="certificateAuthorityFile"/>, and to nothing else: the machine's trust store plays no part.
    /// </summary>
    public static RemoteCertificateValidationCallback TrustOnly(string certificateAuthorityFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificateAuthorityFile);
        var root = X509CertificateLoader.LoadCertificateFromFile(certificateAuthorityFile);
        return (_, certificate, _, errors) =>
        {
            // The chain is judged below against our root alone; a missing certificate or another name is final.
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(server);
        };
    }
}
