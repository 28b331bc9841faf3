using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IshChat.AppHost.Hosting.Etcd;

public static class EtcdBuilderExtensions
{
    /// <summary>
    /// Adds an etcd cluster of <paramref name="members"/> containers. Three members survive the
    /// loss of one; a single member would make leader election a single point of failure. Clients and peers speak TLS
    /// with certificates <paramref name="certificateAuthority"/> issues; a client without one is refused.
    /// </summary>
    public static IResourceBuilder<EtcdClusterResource> AddEtcdCluster(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<CertificateAuthorityResource> certificateAuthority, int members = 3)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(certificateAuthority);
        if (members is < 1 or > 7 || members % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(members), members, "An etcd cluster has an odd number of members, 1 to 7.");
        }

        var cluster = new EtcdClusterResource(name, certificateAuthority.Resource);
        var clusterBuilder = builder.AddResource(cluster)
            .WithStateOfMembers(() => cluster.Members)
            .ExcludeFromManifest();

        var hostPorts = HostPorts.From(builder.Configuration);
        var memberNames = Enumerable.Range(0, members).Select(i => $"{name}-{i}").ToArray();
        for (var i = 0; i < members; i++)
        {
            var member = new EtcdMemberResource(memberNames[i], cluster);
            cluster.AddMember(member);
            // etcd answers /health with 200 only while the member is part of a cluster with a leader; asked over
            // TLS with the AppHost's client certificate, as the fencer asks for the leader key.
            var healthCheckKey = $"{member.Name}_health";
            var health = new HttpsHealthCheck(
                () => member.ClientUrlIfAllocated is { } client ? new Uri(client, "/health") : null,
                cluster.CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(5)));
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => health, HealthStatus.Unhealthy, tags: null));
            builder.AddResource(member)
                .WithClusterImage(ClusterImages.Etcd)
                .WithDevelopmentContainerName()
                .WithHttpsEndpoint(port: HostPorts.Offset(hostPorts.EtcdClientFirstMember, i), targetPort: ClusterPorts.EtcdClient, name: EtcdMemberResource.ClientEndpointName)
                .WithServerCertificate(cluster.CertificateAuthority, ClusterImages.Etcd, () => ServerNames.EtcdMember(member.Name))
                // The member's data (/var/lib/etcd/data) outlives the AppHost: Patroni's keys, and the cluster's membership.
                .WithDataVolume("/var/lib/etcd", DataVolumeKind.Cluster)
                .WithComponentEnvironment(() => ComponentEnvironment.EtcdMember(member.Name, memberNames, cluster.ClusterToken), _ => throw new InvalidOperationException("etcd needs no secrets."))
                .WithHealthCheck(healthCheckKey)
                .WithParentRelationship(cluster);
        }

        return clusterBuilder;
    }

    /// <summary>
    /// Turns etcd's own authentication on for <paramref name="scope"/>'s Patroni cluster (docs/security.md): its users'
    /// passwords come from <paramref name="passwordOf"/>, and every resource in <paramref name="dependents"/> starts only once
    /// etcd requires a login and has its users. No anonymous client reads or writes a key from then on.
    /// </summary>
    public static IResourceBuilder<EtcdClusterResource> WithAuthentication(
        this IResourceBuilder<EtcdClusterResource> builder, Func<string, ParameterResource> passwordOf, string scope, Func<IEnumerable<IResource>> dependents)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(passwordOf);
        ArgumentNullException.ThrowIfNull(dependents);
        var cluster = builder.Resource;
        cluster.PasswordOf = passwordOf;
        cluster.Scope = scope;
        builder.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>((@event, cancellationToken) =>
            dependents().Contains(@event.Resource)
                ? cluster.AuthenticationReadyAsync(
                    @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(cluster),
                    @event.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping).WaitAsync(cancellationToken)
                : Task.CompletedTask);
        return builder;
    }

    /// <summary>The members' names, which are also their DNS names on the cluster's network.</summary>
    public static IReadOnlyList<string> MemberNames(this EtcdClusterResource cluster) => [.. cluster.Members.Select(m => m.Name)];
}
