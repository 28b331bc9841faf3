using IshChat.AppHost.Hosting.CertificateAuthority;
using IshChat.Cluster.Etcd;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Etcd;

/// <summary>
/// An etcd cluster: the distributed configuration store Patroni elects its leader in. Its members speak TLS only, to
/// clients and to each other, and take only clients with a certificate <paramref name="certificateAuthority"/> issued.
/// </summary>
public sealed class EtcdClusterResource(string name, CertificateAuthorityResource certificateAuthority) : Resource(name)
{
    private readonly List<EtcdMemberResource> members = [];

    public IReadOnlyList<EtcdMemberResource> Members => members;

    /// <summary>Signs every member's certificate, and the client certificates etcd accepts.</summary>
    public CertificateAuthorityResource CertificateAuthority { get; } = certificateAuthority;

    /// <summary>Keeps two clusters started side by side from joining each other.</summary>
    public string ClusterToken => $"ishchat-{Name}";

    /// <summary>The client URLs of the members whose endpoints are allocated, as the AppHost's process reaches them.</summary>
    public IReadOnlyList<Uri> ClientUrls() => [.. members.Select(member => member.ClientUrlIfAllocated).OfType<Uri>()];

    /// <summary>
    /// Patroni's leader key of <paramref name="scope"/>, read and released by the AppHost with its client certificate, logged
    /// in as the host's etcd user (<see cref="EtcdAuthentication.HostUser"/>).
    /// </summary>
    public EtcdLeaderKey LeaderKey(string scope) => new(new HttpClient(HostHandler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(3) }, scope);

    /// <summary>Where each etcd user's password comes from; set by <see cref="EtcdBuilderExtensions.WithAuthentication"/>.</summary>
    internal Func<string, ParameterResource>? PasswordOf { get; set; }

    /// <summary>The scope whose leader key the host's user may release.</summary>
    internal string? Scope { get; set; }

    /// <summary>The cluster CA's handler, logged in as the host's etcd user; one for every client, never disposed.</summary>
    private HttpMessageHandler HostHandler => hostHandler ??= new EtcdTokenHandler(EtcdAuthentication.HostUser, async ct =>
        await (PasswordOf ?? throw new InvalidOperationException("etcd has no users: call WithAuthentication."))(EtcdAuthentication.HostUser).GetValueAsync(ct) ?? "")
    {
        InnerHandler = CertificateAuthority.HttpHandler,
    };

    private HttpMessageHandler? hostHandler;
    private Task? authentication;
    private readonly Lock startingAuthentication = new();

    /// <summary>
    /// Completes once etcd requires authentication and has its users (<see cref="EtcdAuthentication.EnsureAsync"/>), done once
    /// per run for every caller: on a new cluster, on volumes from before, and with the passwords of this run's secrets.
    /// </summary>
    public Task AuthenticationReadyAsync(ILogger logger, CancellationToken stopping)
    {
        lock (startingAuthentication)
        {
            return authentication ??= Task.Run(async () =>
            {
                var passwordOf = PasswordOf ?? throw new InvalidOperationException("etcd has no users: call WithAuthentication.");
                var passwords = new Dictionary<string, string>();
                foreach (var user in new[] { EtcdAuthentication.RootUser, EtcdAuthentication.PatroniUser, EtcdAuthentication.HostUser })
                {
                    passwords[user] = await passwordOf(user).GetValueAsync(stopping) ?? throw new InvalidOperationException($"etcd's {user} has no password.");
                }

                using var http = CertificateAuthority.CreateHttpClient(TimeSpan.FromSeconds(10));
                await EtcdAuthentication.EnsureWhenReachableAsync(http, ClientUrls, user => passwords[user], Scope!, stopping, (attempt, ex) =>
                {
                    // The first seconds fail while the members start; say so only once it lasts.
                    if (attempt % 15 == 14)
                    {
                        logger.LogWarning("etcd's users are not set up yet (Patroni waits for them): {Message}", ex.Message);
                    }
                });
                logger.LogInformation("etcd requires authentication: Patroni and the AppHost log in as their own users");
            }, stopping);
        }
    }

    internal void AddMember(EtcdMemberResource member) => members.Add(member);
}
