using System.Net;
using System.Security.Cryptography.X509Certificates;
using IshChat.Cluster.Tls;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Security;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ClusterCertificateAuthorityTests
{
    [Fact]
    public void ACertificateTheCaIssuesIsTrustedForEveryNameItCarriesAndOnlyUnderThatCa()
    {
        // Given a CA and a node's certificate
        var authority = ClusterCertificateAuthority.Create();
        var files = TlsFiles.ForServer(authority, ServerNames.PatroniNode("pg-1", ["haproxy-0", "haproxy-1"]));
        using var certificate = X509Certificate2.CreateFromPem(files.Single(f => f.Name == TlsFiles.Certificate).Content);

        // Then it chains to the CA, carries the node's, the routers' and the loopback names, and expires within a week
        Assert.True(Chains(certificate, authority));
        Assert.False(Chains(certificate, ClusterCertificateAuthority.Create()));
        foreach (var name in new[] { "pg-1", "haproxy-0", "haproxy-1", "localhost" })
        {
            Assert.True(certificate.MatchesHostname(name), name);
        }

        Assert.True(certificate.MatchesHostname(IPAddress.Loopback.ToString()));
        Assert.Contains("haproxy-0,haproxy-1", certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.False(certificate.MatchesHostname("pg-2"));
        Assert.InRange(certificate.NotAfter.ToUniversalTime(), DateTime.UtcNow.AddDays(6), DateTime.UtcNow.Add(TlsFiles.ServerCertificateLifetime));
        // And only the key is private (0600); the CA's key is never among a container's files
        Assert.Equal([TlsFiles.PrivateKey], files.Where(f => f.Private).Select(f => f.Name));
        Assert.DoesNotContain(files, f => f.Content.Contains(authority.PrivateKeyPem.Trim(), StringComparison.Ordinal));
    }

    [Fact]
    public void APatroniNodesEtcdClientCertificateHasNoCommonNameButNamesTheNodeAndChainsToTheCa()
    {
        // Given a node's files
        var authority = ClusterCertificateAuthority.Create();
        var files = TlsFiles.ForPatroniNode(authority, ServerNames.PatroniNode("pg-1", ["haproxy-0"]));
        using var client = X509Certificate2.CreateFromPem(files.Single(f => f.Name == TlsFiles.EtcdClientCertificate).Content);

        // Then its etcd client certificate has an empty subject (etcd's gateway refuses a Common Name once authentication
        // is on), names the node in critical alternative names, chains to the CA; only the two keys are private
        Assert.Equal("", client.Subject);
        var names = client.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.True(names.Critical);
        Assert.Equal(["pg-1"], names.EnumerateDnsNames());
        Assert.True(Chains(client, authority));
        Assert.Equal([TlsFiles.PrivateKey, TlsFiles.EtcdClientKey], files.Where(f => f.Private).Select(f => f.Name));
        using var server = X509Certificate2.CreateFromPem(files.Single(f => f.Name == TlsFiles.Certificate).Content);
        Assert.Equal("CN=pg-1", server.Subject);
    }

    [Fact]
    public void TheCaSurvivesBeingStoredAsOneSecret()
    {
        var authority = ClusterCertificateAuthority.Create();

        var restored = ClusterCertificateAuthority.FromPem(authority.ToPem());

        Assert.Equal(authority.Thumbprint, restored.Thumbprint);
        using var certificate = X509Certificate2.CreateFromPem(restored.Issue(["pg-0"], TimeSpan.FromHours(1)).CertificatePem);
        Assert.True(Chains(certificate, authority));
    }

    private static bool Chains(X509Certificate2 certificate, ClusterCertificateAuthority authority)
    {
        using var root = X509Certificate2.CreateFromPem(authority.CertificatePem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
