using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IshChat.Cluster.Tls;

/// <summary>
/// HTTPS from a process on the host (the AppHost's fencer, dead-leader releaser and health checks, the test cluster)
/// to the cluster's HTTP servers: etcd's client API, which takes only clients with a certificate the cluster CA issued,
/// and Patroni's REST API. A server must show a certificate that chains to the cluster CA (and nothing else: the
/// machine's trust store plays no part) and names the host dialled; this process shows its own client certificate.
/// </summary>
public static class ClusterHttp
{
    /// <summary>The name on the host processes' client certificate, in its alternative names (its subject is empty).</summary>
    public const string HostClientName = "ishchat-host-client";

    /// <summary>
    /// A handler for <paramref name="authority"/>'s servers. Its client certificate is issued here, lives as long as a
    /// server's (<see cref="TlsFiles.ServerCertificateLifetime"/>) and is issued anew once half of that has passed, so an
    /// AppHost that runs for weeks keeps reaching etcd.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ClusterCertificateAuthority authority) => CreateHandler(authority, authority);

    /// <summary>
    /// A handler that trusts <paramref name="trusted"/>'s servers and shows a client certificate
    /// <paramref name="clientCertificateIssuer"/> issued, or none when it is null: how the tests play a stranger.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ClusterCertificateAuthority trusted, ClusterCertificateAuthority? clientCertificateIssuer)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        var clientCertificate = clientCertificateIssuer is null ? null : new RenewingClientCertificate(clientCertificateIssuer);
        var root = X509Certificate2.CreateFromPem(trusted.CertificatePem);
        return new SocketsHttpHandler
        {
            // New connections pick up a renewed client certificate.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate?.Current!,
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { root },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
    }

    private sealed class RenewingClientCertificate(ClusterCertificateAuthority authority)
    {
        private readonly Lock renewing = new();
        private X509Certificate2? current;

        public X509Certificate2 Current
        {
            get
            {
                lock (renewing)
                {
                    if (current is null || DateTime.UtcNow > current.NotBefore.ToUniversalTime() + TlsFiles.ServerCertificateLifetime / 2)
                    {
                        // No Common Name: etcd's gateway refuses one once its authentication is on (the user logs in instead).
                        var issued = authority.IssueWithoutCommonName(HostClientName, TlsFiles.ServerCertificateLifetime);
                        current = X509Certificate2.CreateFromPem(issued.CertificatePem, issued.PrivateKeyPem);
                    }

                    return current;
                }
            }
        }
    }
}
