using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.Etcd;

public static class EtcdBuilderExtensions
{
    /// <summary>
    /// Adds an etcd cluster of <paramref name="members"/> containers. Three members survive the
    /// loss of one; a single member would make leader election a single point of failure.
    /// </summary>
    public static IResourceBuilder<EtcdClusterResource> AddEtcdCluster(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, int members = 3)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (members is < 1 or > 7 || members % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(members), members, "An etcd cluster has an odd number of members, 1 to 7.");
        }

        var cluster = new EtcdClusterResource(name);
        var clusterBuilder = builder.AddResource(cluster)
            .WithStateOfMembers(() => cluster.Members)
            .ExcludeFromManifest();

        var hostPorts = HostPorts.From(builder.Configuration);
        var memberNames = Enumerable.Range(0, members).Select(i => $"{name}-{i}").ToArray();
        for (var i = 0; i < members; i++)
        {
            var member = new EtcdMemberResource(memberNames[i], cluster);
            cluster.AddMember(member);
            builder.AddResource(member)
                .WithClusterImage(ClusterImages.Etcd)
                .WithDevelopmentContainerName()
                .WithHttpEndpoint(port: HostPorts.Offset(hostPorts.EtcdClientFirstMember, i), targetPort: ClusterPorts.EtcdClient, name: EtcdMemberResource.ClientEndpointName)
                // The member's data (/var/lib/etcd/data) outlives the AppHost: Patroni's keys, and the cluster's membership.
                .WithDataVolume("/var/lib/etcd", DataVolumeKind.Cluster)
                .WithComponentEnvironment(() => ComponentEnvironment.EtcdMember(member.Name, memberNames, cluster.ClusterToken), _ => throw new InvalidOperationException("etcd needs no secrets."))
                // etcd answers /health with 200 only while the member is part of a cluster with a leader.
                .WithHttpHealthCheck("/health", endpointName: EtcdMemberResource.ClientEndpointName)
                .WithParentRelationship(cluster);
        }

        return clusterBuilder;
    }

    /// <summary>The members' names, which are also their DNS names on the cluster's network.</summary>
    public static IReadOnlyList<string> MemberNames(this EtcdClusterResource cluster) => [.. cluster.Members.Select(m => m.Name)];
}
