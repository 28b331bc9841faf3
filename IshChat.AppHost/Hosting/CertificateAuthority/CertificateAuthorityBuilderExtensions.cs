using IshChat.Cluster.Tls;

namespace IshChat.AppHost.Hosting.CertificateAuthority;

public static class CertificateAuthorityBuilderExtensions
{
    /// <summary>
    /// Adds the cluster's certificate authority: a secret parameter named <paramref name="name"/>, generated on the first
    /// run and kept in the AppHost's user secrets (so a restart keeps it, and clients that trusted it still do). A test
    /// run's AppHost has no user secrets and makes its own.
    /// </summary>
    public static IResourceBuilder<CertificateAuthorityResource> AddCertificateAuthority(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var stored = builder.AddParameter(name, new NewCertificateAuthority(), secret: true, persist: true)
            .WithDescription("The cluster's CA (certificate and key, PEM): signs every server certificate. Kept across runs; delete it to start a new CA.");
        return builder.AddResource(new CertificateAuthorityResource($"{name}-issuer", stored.Resource))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "CertificateAuthority",
                State = KnownResourceStates.Active,
                Properties = [],
            })
            .WithParentRelationship(stored)
            .ExcludeFromManifest();
    }

    /// <summary>
    /// Hands the container a certificate for <paramref name="names"/> (plus localhost and 127.0.0.1), its key and the CA
    /// certificate, as files under <see cref="TlsFiles.Directory"/> owned by the image's user (the key 0600). Issued each
    /// time the container is created, so a restart renews it. <paramref name="withEtcdClientCertificate"/> adds a Patroni
    /// node's etcd client certificate, without a Common Name (<see cref="TlsFiles.ForPatroniNode"/>; the first name is the node's).
    /// </summary>
    public static IResourceBuilder<T> WithServerCertificate<T>(
        this IResourceBuilder<T> builder, CertificateAuthorityResource authority, ClusterImage image, Func<IEnumerable<string>> names,
        bool withEtcdClientCertificate = false)
        where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(names);
        return builder.WithTlsFiles(image, async ct => withEtcdClientCertificate
            ? TlsFiles.ForPatroniNode(await authority.GetAsync(ct), [.. names()])
            : TlsFiles.ForServer(await authority.GetAsync(ct), names()));
    }

    /// <summary>Hands the container the CA certificate only: a client that verifies servers and serves nothing itself.</summary>
    public static IResourceBuilder<T> WithCertificateAuthorityCertificate<T>(
        this IResourceBuilder<T> builder, CertificateAuthorityResource authority, ClusterImage image)
        where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(authority);
        return builder.WithTlsFiles(image, async ct => TlsFiles.ForClient(await authority.GetAsync(ct)));
    }

    private static IResourceBuilder<T> WithTlsFiles<T>(
        this IResourceBuilder<T> builder, ClusterImage image, Func<CancellationToken, Task<IReadOnlyList<TlsFile>>> files)
        where T : ContainerResource
    {
        var user = image.RunsAs
            ?? throw new InvalidOperationException($"The image {image.Component} names no user (ClusterImage.RunsAs) to own its TLS files.");
        return builder.WithContainerFiles(TlsFiles.Directory, async (_, ct) =>
            (await files(ct)).Select(file => (ContainerFileSystemItem)new ContainerFile
            {
                Name = file.Name,
                Contents = file.Content,
                Mode = file.Mode,
                Owner = user.Uid,
                Group = user.Gid,
            }), defaultOwner: user.Uid, defaultGroup: user.Gid);
    }

    /// <summary>A new CA as the parameter's generated value (Aspire then keeps it in the user secrets).</summary>
    private sealed class NewCertificateAuthority : ParameterDefault
    {
        public override string GetDefaultValue() => ClusterCertificateAuthority.Create().ToPem();

        public override void WriteToManifest(Aspire.Hosting.Publishing.ManifestPublishingContext context)
        {
            // Publishing targets Azure (docs/azure.md), where the managed services bring their own certificates.
        }
    }
}
