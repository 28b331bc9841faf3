using IshChat.Cluster.Tls;

namespace IshChat.AppHost.Hosting.CertificateAuthority;

/// <summary>
/// The cluster's certificate authority, kept in <paramref name="stored"/> (a secret parameter: the CA certificate and
/// key, PEM, generated on the first run and kept in the AppHost's user secrets like every password). Containers get
/// certificates it issues when they are created; processes on the host get its certificate as a file.
/// </summary>
public sealed class CertificateAuthorityResource(string name, ParameterResource stored) : Resource(name)
{
    private ClusterCertificateAuthority? authority;
    private HttpMessageHandler? httpHandler;

    public ParameterResource Stored { get; } = stored;

    /// <summary>The path of the CA's certificate on the host, for <c>Root Certificate=</c> in the connection strings handed out.</summary>
    public CertificateAuthorityFile HostFile => new(this);

    public async Task<ClusterCertificateAuthority> GetAsync(CancellationToken cancellationToken)
    {
        if (authority is null)
        {
            var pem = await Stored.GetValueAsync(cancellationToken)
                ?? throw new InvalidOperationException($"The parameter {Stored.Name} (the cluster CA) has no value.");
            authority = ClusterCertificateAuthority.FromPem(pem);
        }

        return authority;
    }

    /// <summary>
    /// An HTTP client for the cluster's HTTPS servers (etcd, which wants this client certificate, and Patroni REST),
    /// trusting this CA only (<see cref="ClusterHttp"/>). Every client shares one handler and its connections.
    /// </summary>
    public HttpClient CreateHttpClient(TimeSpan timeout) => new(HttpHandler, disposeHandler: false) { Timeout = timeout };

    /// <summary>The one handler behind <see cref="CreateHttpClient"/>, for callers that make their own clients; never disposed.</summary>
    public HttpMessageHandler HttpHandler => httpHandler ??= new ClusterHttpHandler(this);

    /// <summary>Makes its <see cref="ClusterHttp"/> handler on the first request: the CA is a parameter, known only once the AppHost runs.</summary>
    private sealed class ClusterHttpHandler(CertificateAuthorityResource authority) : HttpMessageHandler
    {
        private readonly Lazy<Task<HttpMessageInvoker>> invoker = new(async () => new HttpMessageInvoker(ClusterHttp.CreateHandler(await authority.GetAsync(CancellationToken.None))));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await (await invoker.Value).SendAsync(request, cancellationToken);
    }
}

/// <summary>The CA certificate's path on the host, resolved (and the file written) when a connection string is.</summary>
public sealed class CertificateAuthorityFile(CertificateAuthorityResource authority) : IValueProvider, IManifestExpressionProvider
{
    public string ValueExpression => $"{{{authority.Stored.Name}.file}}";

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
        HostTrust.CertificateAuthorityFile(await authority.GetAsync(cancellationToken));
}
