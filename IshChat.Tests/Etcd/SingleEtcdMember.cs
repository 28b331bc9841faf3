using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using IshChat.Cluster.Testcontainers;
using IshChat.Cluster.Tls;
using Microsoft.Extensions.Logging.Abstractions;

namespace IshChat.Tests.Etcd;

/// <summary>One etcd member from the cluster's image, with a certificate from <see cref="Authority"/>, its client and peer ports published.</summary>
internal sealed class SingleEtcdMember(IContainer container, ClusterCertificateAuthority authority) : IAsyncDisposable
{
    public ClusterCertificateAuthority Authority { get; } = authority;

    public Uri ClientUrl => Url(Uri.UriSchemeHttps, ClusterPorts.EtcdClient);

    public Uri PeerUrl => Url(Uri.UriSchemeHttps, ClusterPorts.EtcdPeer);

    public Uri Url(string scheme, int port) => new($"{scheme}://127.0.0.1:{container.GetMappedPublicPort(port)}/");

    /// <summary>Runs <paramref name="command"/> inside the member's container; its exit code.</summary>
    public async Task<long?> ExecAsync(params string[] command) => (await container.ExecAsync(command)).ExitCode;

    public static async Task<SingleEtcdMember> StartAsync(string clusterToken)
    {
        var layout = RepositoryLayout.Current;
        await new ClusterImageBuilder(layout, NullLogger.Instance).EnsureBuiltAsync([ClusterImages.Etcd]);
        var authority = ClusterCertificateAuthority.Create(TimeSpan.FromHours(1));
        var container = await HostPortClash.StartAsync(() => new ContainerBuilder(ClusterImages.Etcd.Reference(layout))
            .WithEnvironment(ComponentEnvironment.EtcdMember("etcd-0", ["etcd-0"], clusterToken).ToDictionary(e => e.Key, e => e.Value.Literal!))
            .WithNetworkAliases("etcd-0")
            .WithServerCertificate(authority, ClusterImages.Etcd, ServerNames.EtcdMember("etcd-0"))
            .WithPortBinding(ClusterPorts.EtcdClient, assignRandomHostPort: true)
            .WithPortBinding(ClusterPorts.EtcdPeer, assignRandomHostPort: true)
            .WithPortBinding(ClusterPorts.EtcdMetrics, assignRandomHostPort: true)
            // The plain metrics port answers /health too: ready once the member leads its one-member cluster.
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(ClusterPorts.EtcdMetrics).ForPath("/health")))
            .Build(), NullLogger.Instance, CancellationToken.None);
        return new SingleEtcdMember(container, authority);
    }

    public ValueTask DisposeAsync() => container.DisposeAsync();
}
