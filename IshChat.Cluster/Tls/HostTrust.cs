using Npgsql;

namespace IshChat.Cluster.Tls;

/// <summary>
/// How processes on the host (the API, the migrations, the tests, the benches) verify the cluster's servers: the CA's
/// certificate in a file Npgsql reads (<c>Root Certificate</c>), and <c>SSL Mode=VerifyFull</c>, which checks the chain
/// and the name dialled (<c>localhost</c>, <c>127.0.0.1</c>: <see cref="TlsFiles.LoopbackNames"/>).
/// </summary>
public static class HostTrust
{
    /// <summary>
    /// Writes <paramref name="authority"/>'s certificate (public; never its key) to a file named by its thumbprint
    /// under the temp directory, once, and returns its path. Every AppHost or test cluster with the same CA shares it.
    /// </summary>
    public static string CertificateAuthorityFile(ClusterCertificateAuthority authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        var directory = Path.Combine(Path.GetTempPath(), "ishchat-tls");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"ca-{authority.Thumbprint[..16]}.crt");
        if (!File.Exists(path) || File.ReadAllText(path) != authority.CertificatePem)
        {
            // Written aside and renamed: a reader never sees half a certificate.
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temporary, authority.CertificatePem);
            File.Move(temporary, path, overwrite: true);
        }

        return path;
    }

    /// <summary>The Npgsql options that make a connection verified TLS or nothing.</summary>
    public static string NpgsqlOptions(string certificateAuthorityFile) => $"SSL Mode=VerifyFull;Root Certificate={certificateAuthorityFile}";

    /// <summary>Sets <see cref="NpgsqlOptions"/> on <paramref name="builder"/>.</summary>
    public static NpgsqlConnectionStringBuilder VerifyFull(this NpgsqlConnectionStringBuilder builder, string certificateAuthorityFile)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.SslMode = SslMode.VerifyFull;
        builder.RootCertificate = certificateAuthorityFile;
        return builder;
    }
}
