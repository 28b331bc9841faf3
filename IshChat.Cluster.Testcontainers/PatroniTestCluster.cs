using System.Security.Cryptography;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Networks;
using IshChat.Cluster.Tls;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// The HA cluster (etcd, Patroni nodes, HAProxy, PgBouncer) on its own Docker network, started
/// from the same images and the same <see cref="ComponentEnvironment"/> as the AppHost. Disposing
/// it removes every container and the network, whatever state the faults left them in.
/// </summary>
public sealed partial class PatroniTestCluster : IAsyncDisposable
{
    private readonly List<IContainer> containers = [];
    private readonly Dictionary<ClusterSecret, string> secrets;
    private readonly ILogger logger;
    private readonly SocketsHttpHandler httpsHandler;
    private DeadLeaderReleaser? releaser;
    private ContainerSupervisor? supervisor;
    private PrimaryFencer? fencer;

    private PatroniTestCluster(TestClusterOptions options, INetwork network, ILogger logger, RegionLink? region)
    {
        Options = options;
        Network = network;
        InterRegionNetwork = region?.Network;
        this.logger = logger;
        // A second region shares the first one's CA and secrets: its standby leader replicates with the same
        // replication role (verify-full against the one CA), and it serves the same roles once promoted.
        secrets = region?.Peer.secrets.ToDictionary() ?? Enum.GetValues<ClusterSecret>().ToDictionary(s => s, _ => NewPassword());
        CertificateAuthority = region?.Peer.CertificateAuthority ?? ClusterCertificateAuthority.Create(TimeSpan.FromDays(2));
        CertificateAuthorityFile = HostTrust.CertificateAuthorityFile(CertificateAuthority);
        httpsHandler = ClusterHttp.CreateHandler(CertificateAuthority);
        Https = new HttpClient(httpsHandler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
        // Per-request timeouts live in PatroniRestClient.
        Rest = new PatroniRestClient(new HttpClient(httpsHandler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }, secrets[ClusterSecret.RestApiPassword]);
        // The host's own etcd user, as the AppHost logs in (etcd's authentication: EtcdAuthentication).
        EtcdHttp = new HttpClient(new EtcdTokenHandler(EtcdAuthentication.HostUser, _ => Task.FromResult(secrets[ClusterSecret.EtcdHostPassword])) { InnerHandler = httpsHandler })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        LeaderKey = new EtcdLeaderKey(EtcdHttp, options.Scope);
    }

    public TestClusterOptions Options { get; }

    /// <summary>This cluster's own CA (never the AppHost's), shared with its other region: it signs every node's and PgBouncer's certificate.</summary>
    public ClusterCertificateAuthority CertificateAuthority { get; }

    /// <summary>The inter-region network this cluster's nodes and HAProxy also sit on; null for a cluster alone.</summary>
    public INetwork? InterRegionNetwork { get; private set; }

    /// <summary>A container's name on the networks: <see cref="TestClusterOptions.NamePrefix"/> keeps two regions' names apart on the link.</summary>
    public string NameOf(string component) => Options.NamePrefix + component;

    /// <summary>The CA's certificate on the host: what the connection strings below verify servers against.</summary>
    public string CertificateAuthorityFile { get; }

    public INetwork Network { get; }

    public IReadOnlyList<TestClusterNode> Etcd { get; private set; } = [];

    public IReadOnlyList<TestClusterNode> Nodes { get; private set; } = [];

    public TestClusterNode HAProxy { get; private set; } = null!;

    public TestClusterNode PgBouncer { get; private set; } = null!;

    public PatroniRestClient Rest { get; }

    public EtcdLeaderKey LeaderKey { get; }

    /// <summary>How often a dead leader's key was released early.</summary>
    public int LeaderKeyReleases => releaser?.Releases ?? 0;

    /// <summary>The fencer watching the leader (null when <see cref="TestClusterOptions.FenceSilentPrimary"/> is off): its fences and doubts.</summary>
    public PrimaryFencer? Fencer => fencer;

    /// <summary>How often a dead container was started again by the supervisor.</summary>
    public int SelfHealingRestarts => supervisor?.Restarts ?? 0;

    /// <summary>
    /// Keeps <paramref name="node"/> down after a fault until disposed (the supervisor would otherwise start it again
    /// within a second): for scenarios that need a loss to last, such as etcd without quorum.
    /// </summary>
    public IDisposable HoldDown(TestClusterNode node) => supervisor?.HoldDown(node.ContainerId) ?? new NothingHeld();

    private sealed class NothingHeld : IDisposable
    {
        public void Dispose()
        {
        }
    }

    /// <summary>
    /// HTTPS to this cluster's servers (etcd, Patroni REST) with its client certificate (etcd takes no other client);
    /// etcd's calls are quick or fail fast on a closed port.
    /// </summary>
    public HttpClient Https { get; }

    /// <summary>etcd's client API as the host's own etcd user (<see cref="EtcdAuthentication.HostUser"/>): what the fencer and the releaser use.</summary>
    public HttpClient EtcdHttp { get; }

    public string Secret(ClusterSecret secret) => secrets[secret];

    /// <param name="region">
    /// For a second region: the cluster it shares its CA and secrets with, and the inter-region network its nodes and
    /// HAProxy join besides their own (with <see cref="TestClusterOptions.StandbyOf"/>, it starts as that region's standby).
    /// </param>
    public static async Task<PatroniTestCluster> StartAsync(TestClusterOptions options, ILogger logger, CancellationToken cancellationToken, RegionLink? region = null)
    {
        options.Patroni.Validate();
        // Ryuk, Testcontainers' reaper, is an image from a registry; none is reachable. We dispose ourselves.
        TestcontainersSettings.ResourceReaperEnabled = false;

        var layout = RepositoryLayout.Current;
        // Every image at once, not only this cluster's four: on a fresh machine the later fixtures then find theirs built.
        await new ClusterImageBuilder(layout, logger).EnsureBuiltAsync(ClusterImages.All, cancellationToken);

        var network = new NetworkBuilder().WithName($"ishchat-test-{Guid.NewGuid():N}"[..24])
            .WithLabel("io.ishchat.network", "true").Build();
        await network.CreateAsync(cancellationToken);
        var cluster = new PatroniTestCluster(options, network, logger, region);
        try
        {
            await cluster.StartContainersAsync(layout, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartContainersAsync(RepositoryLayout layout, CancellationToken cancellationToken)
    {
        var etcdNames = Enumerable.Range(0, Options.EtcdMembers).Select(i => NameOf(ResourceNames.Instance(ResourceNames.Etcd, i))).ToArray();
        var nodeNames = NodeSlots.Take(Options.Replicas + 1).ToArray();

        Etcd = await Task.WhenAll(etcdNames.Select(name => StartAsync(name, ClusterImages.Etcd.Reference(layout),
            ComponentEnvironment.EtcdMember(name, etcdNames, Options.Scope), [ClusterPorts.EtcdClient],
            Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(ClusterPorts.EtcdClient), cancellationToken,
            tls: (ClusterImages.Etcd, TlsFiles.ForServer(CertificateAuthority, ServerNames.EtcdMember(name))))));
        // Authentication on before any Patroni node starts, as the AppHost does it: one source (EtcdAuthentication).
        using (var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            patience.CancelAfter(TimeSpan.FromMinutes(1));
            await EtcdAuthentication.EnsureWhenReachableAsync(Https, () => [.. Etcd.Select(EtcdUrl)], user => secrets[EtcdAuthentication.PasswordOf(user)], Options.Scope, patience.Token);
        }

        if (Options.BackupStore)
        {
            await StartBackupStoreAsync(layout, cancellationToken);
        }

        Nodes = await Task.WhenAll(nodeNames.Select(name => StartNodeAsync(name, nodeNames, cancellationToken)));

        // Every slot, spares included: a spare that starts later is routed to without touching HAProxy.
        HAProxy = await StartAsync(NameOf("haproxy"), ClusterImages.HAProxy.Reference(layout), ComponentEnvironment.HAProxy(NodeSlots),
            [ClusterPorts.HAProxyReadWrite, ClusterPorts.HAProxyReadOnly, ClusterPorts.HAProxyStats],
            Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(ClusterPorts.HAProxyStats).ForPath("/healthz")), cancellationToken,
            tls: (ClusterImages.HAProxy, TlsFiles.ForClient(CertificateAuthority)), onInterRegionLink: true);

        PgBouncer = await StartAsync(NameOf("pgbouncer"), ClusterImages.PgBouncer.Reference(layout), ComponentEnvironment.PgBouncer([NameOf("haproxy")], Options.PgBouncer),
            [ClusterPorts.PgBouncer], Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(ClusterPorts.PgBouncer), cancellationToken,
            tls: (ClusterImages.PgBouncer, TlsFiles.ForServer(CertificateAuthority, ServerNames.PgBouncer(NameOf("pgbouncer"), NameOf("pgbouncer")))));

        if (Options.SelfHealing)
        {
            supervisor = new ContainerSupervisor((containerId, _) => Task.FromResult(SupervisedContainerOf(containerId)), logger);
            supervisor.Start();
        }

        if (Options.ReleaseDeadLeaderKey)
        {
            releaser = new DeadLeaderReleaser(LeaderKey,
                (containerId, _) => Task.FromResult(Nodes.FirstOrDefault(n => n.ContainerId.StartsWith(containerId, StringComparison.Ordinal) || containerId.StartsWith(n.ContainerId, StringComparison.Ordinal))?.Name),
                () => [.. Etcd.Select(EtcdUrl)], logger);
            releaser.Start();
        }

        if (Options.FenceSilentPrimary)
        {
            fencer = new PrimaryFencer(Options.Fencing, httpsHandler, LeaderKey, () => [.. Etcd.Select(EtcdUrl)],
                _ => Task.FromResult<IReadOnlyList<FencedNode>>([.. Nodes.Select(n => new FencedNode(n.Name, n.ContainerId, RestUrl(n)))]), logger);
            fencer.Start();
        }
    }

    private Task<TestClusterNode> StartNodeAsync(string name, IReadOnlyList<string> nodeNames, CancellationToken cancellationToken) =>
        StartAsync(name, ClusterImages.Patroni.Reference(RepositoryLayout.Current),
            ComponentEnvironment.PatroniNode(name, Options.Scope, [.. Etcd.Select(e => e.Name)], Options.Patroni, Options.StandbyOf), [ClusterPorts.Postgres, ClusterPorts.PatroniRest],
            PatroniAlive, cancellationToken,
            Options.BackupStore ? BackupEnvironmentOf(name, nodeNames) : null, PatroniNodeCertificate(name), onInterRegionLink: true);

    /// <summary>A node's certificate: its own name and HAProxy's, whose TCP pass-through hands clients this certificate.</summary>
    /// <summary>
    /// Patroni answers /liveness, asked as the image's own healthcheck asks it (HTTPS, verified with the cluster CA, from
    /// inside the container): Testcontainers' HTTP wait can't be told to trust this cluster's CA.
    /// </summary>
    private static IWaitForContainerOS PatroniAlive => Wait.ForUnixContainer().UntilCommandIsCompleted("/usr/local/bin/ishchat-healthcheck");

    private (ClusterImage, IReadOnlyList<TlsFile>) PatroniNodeCertificate(string name) =>
        (ClusterImages.Patroni, TlsFiles.ForPatroniNode(CertificateAuthority, ServerNames.PatroniNode(name, [NameOf("haproxy")])));

    private async Task<TestClusterNode> StartAsync(
        string name, string image, IReadOnlyDictionary<string, EnvironmentValue> environment, int[] ports, IWaitForContainerOS wait, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? moreEnvironment = null, (ClusterImage Image, IReadOnlyList<TlsFile> Files)? tls = null, bool onInterRegionLink = false)
    {
        var builder = new ContainerBuilder(image)
            .WithNetwork(Network)
            .WithNetworkAliases(name)
            .WithEnvironment(environment.ToDictionary(e => e.Key, e => e.Value.Resolve(s => secrets[s])))
            .WithEnvironment(moreEnvironment ?? new Dictionary<string, string>())
            .WithWaitStrategy(wait);
        if (tls is { } certificate)
        {
            builder = builder.WithTlsFiles(certificate.Image, certificate.Files);
        }
        foreach (var port in ports)
        {
            builder = builder.WithPortBinding(port, assignRandomHostPort: true);
        }

        if (onInterRegionLink && InterRegionNetwork is { } link)
        {
            // On the link from its first start: a standby region's leader clones from the other region at once.
            builder = builder.WithCreateParameterModifier(create =>
            {
                create.NetworkingConfig ??= new global::Docker.DotNet.Models.NetworkingConfig();
                create.NetworkingConfig.EndpointsConfig ??= new Dictionary<string, global::Docker.DotNet.Models.EndpointSettings>();
                create.NetworkingConfig.EndpointsConfig[link.Name] = new global::Docker.DotNet.Models.EndpointSettings { Aliases = [name] };
            });
        }

        // Kept in the list as soon as it exists, so disposing the cluster removes it even if it never started.
        var container = await HostPortClash.StartAsync(
            builder.Build,
            logger,
            cancellationToken,
            created: c =>
            {
                lock (containers)
                {
                    containers.Add(c);
                }
            },
            abandoned: c =>
            {
                lock (containers)
                {
                    containers.Remove(c);
                }
            });
        logger.LogInformation("Started {Name} ({Id})", name, container.Id[..12]);
        var started = new TestClusterNode(name, container);
        if (onInterRegionLink && InterRegionNetwork is not null)
        {
            // On two networks Docker publishes the ports on the one that is the gateway: read them from the runtime.
            await started.RefreshHostPortsAsync(cancellationToken);
        }

        return started;
    }

    private SupervisedContainer? SupervisedContainerOf(string containerId) =>
        Etcd.Concat(Nodes).Append(HAProxy).Append(PgBouncer)
            .FirstOrDefault(n => n is not null && (n.ContainerId.StartsWith(containerId, StringComparison.Ordinal) || containerId.StartsWith(n.ContainerId, StringComparison.Ordinal)))
            is { } node
            ? new SupervisedContainer(node.Name, async ct =>
            {
                await DockerCli.StartAsync(node.ContainerId, ct);
                await node.RefreshHostPortsAsync(ct);
            })
            : null;

    public Uri EtcdUrl(TestClusterNode member) => new($"https://127.0.0.1:{member.HostPort(ClusterPorts.EtcdClient)}/");

    public Uri RestUrl(TestClusterNode node) => new($"https://127.0.0.1:{node.HostPort(ClusterPorts.PatroniRest)}/");

    public TestClusterNode Node(string name) => Nodes.Single(n => n.Name == name);

    /// <summary>Through PgBouncer, as clients connect. No pooling on our side: every open is a new path.</summary>
    public string PgBouncerConnectionString(string role = ClusterRoles.App, string database = PgBouncerDatabases.ReadWrite) =>
        Connection("127.0.0.1", PgBouncer.HostPort(ClusterPorts.PgBouncer), database, role);

    /// <summary>Straight to one node's PostgreSQL as the superuser, bypassing every router.</summary>
    public string NodeConnectionString(TestClusterNode node, string database = "postgres") =>
        Connection("127.0.0.1", node.HostPort(ClusterPorts.Postgres), database, ClusterRoles.Superuser);

    /// <summary>HAProxy's read-write port: always the current leader, a real session (no PgBouncer).</summary>
    public string LeaderConnectionString(string role = ClusterRoles.App, string database = ClusterRoles.Database) =>
        Connection("127.0.0.1", HAProxy.HostPort(ClusterPorts.HAProxyReadWrite), database, role);

    /// <summary>HAProxy's read-only port: a streaming replica (the leader when none is healthy), a real session.</summary>
    public string ReplicaConnectionString(string role = ClusterRoles.App, string database = ClusterRoles.Database) =>
        Connection("127.0.0.1", HAProxy.HostPort(ClusterPorts.HAProxyReadOnly), database, role);

    /// <summary>Verified TLS (<see cref="HostTrust"/>): every server here shows a certificate for 127.0.0.1 from this cluster's CA.</summary>
    private string Connection(string host, int port, string database, string role) => new NpgsqlConnectionStringBuilder
    {
        Host = host, Port = port, Database = database, Username = role, Pooling = false, Timeout = 3, CommandTimeout = 5,
        Password = secrets[ClusterRoles.PasswordOf(role)],
    }.VerifyFull(CertificateAuthorityFile).ConnectionString;

    /// <summary>
    /// Random, and hostile on purpose: a quote, a double quote, a space, '#', ':' and a backslash in every password
    /// prove on each run that every layer that stores one (Patroni's YAML, pgpass, PgBouncer's auth file, psql
    /// variables) quotes it correctly.
    /// </summary>
    private static string NewPassword() => $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))} it's \"#1:\\x";

    public async ValueTask DisposeAsync()
    {
        // The fencer and the supervisor first: removing the containers must not look like silences to fence or deaths to heal.
        if (fencer is not null)
        {
            await fencer.DisposeAsync();
        }

        if (supervisor is not null)
        {
            await supervisor.DisposeAsync();
        }

        if (releaser is not null)
        {
            await releaser.DisposeAsync();
        }

        foreach (var container in containers)
        {
            try
            {
                // A paused container can't be removed until it's unpaused.
                await DockerCli.ExecuteAsync(["unpause", container.Id]);
                await container.DisposeAsync();
            }
            catch (Exception ex)
            {
                logger.LogWarning("Could not remove a container: {Message}", ex.Message);
            }
        }

        await Network.DisposeAsync();
        Https.Dispose();
        // Its token handler disposes httpsHandler with it.
        EtcdHttp.Dispose();
    }
}
