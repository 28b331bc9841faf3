using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using IshChat.Cluster.Tls;

namespace IshChat.Cluster.Testcontainers;

/// <summary>How a test container gets its TLS files: as the AppHost hands them over (files, never environment, owned by the image's user, the key 0600).</summary>
public static class TlsContainerFiles
{
    /// <summary>A server certificate from <paramref name="authority"/> for <paramref name="names"/>, with the key and the CA's certificate.</summary>
    public static ContainerBuilder WithServerCertificate(this ContainerBuilder builder, ClusterCertificateAuthority authority, ClusterImage image, IEnumerable<string> names) =>
        builder.WithTlsFiles(image, TlsFiles.ForServer(authority, names));

    public static ContainerBuilder WithTlsFiles(this ContainerBuilder builder, ClusterImage image, IEnumerable<TlsFile> files)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var owner = image.RunsAs ?? throw new InvalidOperationException($"{image.Component} names no user for its TLS files.");
        foreach (var file in files)
        {
            builder = builder.WithResourceMapping(System.Text.Encoding.UTF8.GetBytes(file.Content), TlsFiles.PathOf(file.Name),
                (uint)owner.Uid, (uint)owner.Gid,
                file.Private ? UnixFileModes.UserRead | UnixFileModes.UserWrite
                    : UnixFileModes.UserRead | UnixFileModes.UserWrite | UnixFileModes.GroupRead | UnixFileModes.OtherRead);
        }

        return builder;
    }
}
