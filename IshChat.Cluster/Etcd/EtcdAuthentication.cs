using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// etcd's own authentication, on top of the client certificate every client already needs (docs/security.md): a root
/// user for this setup only, a <see cref="PatroniUser"/> that may read and write Patroni's namespace and nothing else, a
/// <see cref="HostUser"/> for the AppHost's and the test cluster's own client (fencer, dead-leader releaser, ordered
/// shutdown), and no anonymous access. Users log in with a password: Patroni and our client speak etcd's JSON gateway,
/// which never takes a certificate's CN as the user (etcd-io/etcd#10366), so CN authentication is not an option.
/// <see cref="EnsureAsync"/> sets it all up on a new cluster and on one whose volumes predate it, and brings the
/// passwords in line on every start; run it again and it changes nothing.
/// </summary>
public static class EtcdAuthentication
{
    public const string RootUser = "root";

    /// <summary>Patroni's user and role: read and write under <see cref="PatroniNamespace"/>, every scope (a restore runs in its own).</summary>
    public const string PatroniUser = "patroni";

    /// <summary>The host processes' user and role: read Patroni's namespace, delete (compare-and-delete) a scope's leader key.</summary>
    public const string HostUser = "ishchat-host";

    /// <summary>Patroni's key prefix: its <c>namespace</c>, left at the default in containers/patroni/patroni.yml.tmpl.</summary>
    public const string PatroniNamespace = "/service/";

    /// <summary>The secret holding <paramref name="user"/>'s password.</summary>
    public static ClusterSecret PasswordOf(string user) => user switch
    {
        RootUser => ClusterSecret.EtcdRootPassword,
        PatroniUser => ClusterSecret.EtcdPatroniPassword,
        HostUser => ClusterSecret.EtcdHostPassword,
        _ => throw new ArgumentOutOfRangeException(nameof(user), user, "Not one of etcd's users."),
    };

    /// <summary>
    /// Makes the cluster behind <paramref name="member"/> require authentication, with the three users and their
    /// passwords from <paramref name="passwordOf"/> and the host user's write limited to <paramref name="scope"/>'s leader key.
    /// <paramref name="http"/> reaches etcd with its client certificate and no token of its own.
    /// </summary>
    public static async Task EnsureAsync(HttpClient http, Uri member, Func<string, string> passwordOf, string scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(passwordOf);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        var root = new EtcdSession(http, member, RootUser, passwordOf(RootUser));
        // Not enabled yet: a new cluster, or a volume from before; everything below is then done anonymously, once.
        var enabled = await root.AuthenticateAsync(cancellationToken);

        await root.IgnoringAsync("user name already exists", "/v3/auth/user/add", new { name = RootUser, password = passwordOf(RootUser) }, cancellationToken);
        await root.CallAsync("/v3/auth/user/grant", new { user = RootUser, role = RootUser }, cancellationToken);
        await EnsureUserAsync(root, PatroniUser, passwordOf(PatroniUser), [Permission.Prefix("READWRITE", PatroniNamespace)], cancellationToken);
        await EnsureUserAsync(root, HostUser, passwordOf(HostUser),
            [Permission.Prefix("READ", PatroniNamespace), Permission.Single("READWRITE", $"{PatroniNamespace}{scope}/leader")], cancellationToken);
        if (!enabled)
        {
            await root.CallAsync("/v3/auth/enable", new { }, cancellationToken);
        }
    }

    /// <summary>
    /// <see cref="EnsureAsync"/> on whichever of <paramref name="members"/> answers, tried in turn once a second while the
    /// members start and elect a leader, until <paramref name="cancellationToken"/> gives up (then the last failure is in
    /// the exception). A refused root login is final. <paramref name="failed"/> hears every failed attempt.
    /// </summary>
    public static async Task EnsureWhenReachableAsync(
        HttpClient http, Func<IReadOnlyList<Uri>> members, Func<string, string> passwordOf, string scope, CancellationToken cancellationToken,
        Action<int, Exception>? failed = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        Exception? last = null;
        for (var attempt = 0; ; attempt++)
        {
            var urls = members();
            try
            {
                if (urls.Count > 0)
                {
                    await EnsureAsync(http, urls[attempt % urls.Count], passwordOf, scope, cancellationToken);
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException
                && !cancellationToken.IsCancellationRequested && ex is not RootLoginRefusedException)
            {
                // Not up yet, or no leader yet ("etcdserver: request timed out"): try again, on the next member.
                last = ex;
                failed?.Invoke(attempt, ex);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException) when (last is not null)
            {
                throw new TimeoutException($"etcd's authentication could not be set up: {last.Message}", last);
            }
        }
    }

    private static async Task EnsureUserAsync(EtcdSession root, string user, string password, Permission[] permissions, CancellationToken cancellationToken)
    {
        await root.IgnoringAsync("role name already exists", "/v3/auth/role/add", new { name = user }, cancellationToken);
        foreach (var permission in permissions)
        {
            await root.CallAsync("/v3/auth/role/grant", new { name = user, perm = permission }, cancellationToken);
        }

        await root.IgnoringAsync("user name already exists", "/v3/auth/user/add", new { name = user, password }, cancellationToken);
        // A changed password (rotated secret) is set; an unchanged one is left alone, so its holders' tokens stay valid.
        if (!await new EtcdSession(root.Http, root.Member, user, password).AuthenticateAsync(cancellationToken, expectEnabled: false))
        {
            await root.CallAsync("/v3/auth/user/changepw", new { name = user, password }, cancellationToken);
        }

        await root.CallAsync("/v3/auth/user/grant", new { user, role = user }, cancellationToken);
    }

    /// <summary>The end of etcd's range for every key starting with <paramref name="prefix"/>: its last byte plus one.</summary>
    internal static string PrefixEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++;
        return Convert.ToBase64String(bytes);
    }

    internal static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private sealed record Permission(
        [property: JsonPropertyName("permType")] string PermType,
        [property: JsonPropertyName("key")] string Key,
        [property: JsonPropertyName("range_end"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RangeEnd)
    {
        public static Permission Prefix(string type, string prefix) => new(type, Base64(prefix), PrefixEnd(prefix));

        public static Permission Single(string type, string key) => new(type, Base64(key), null);
    }

    /// <summary>Calls to one member as one user: with that user's token once authenticated, anonymously before.</summary>
    private sealed class EtcdSession(HttpClient http, Uri member, string user, string password)
    {
        private string? token;

        public HttpClient Http => http;

        public Uri Member => member;

        /// <summary>True once logged in; false when the cluster has no authentication yet (or, unless expected, a wrong password).</summary>
        public async Task<bool> AuthenticateAsync(CancellationToken cancellationToken, bool expectEnabled = true)
        {
            var (ok, body) = await SendAsync("/v3/auth/authenticate", new { name = user, password }, withToken: false, cancellationToken);
            if (ok)
            {
                token = body.GetProperty("token").GetString();
                return true;
            }

            var error = ErrorOf(body);
            if (error.Contains("authentication is not enabled", StringComparison.Ordinal) || !expectEnabled)
            {
                return false;
            }

            throw new RootLoginRefusedException(
                $"etcd at {member} refused {user}'s login ({error}). Its volumes were set up with another {user} password than this run's secrets; " +
                "wipe the cluster's volumes (eng/down.sh --volumes) or set the old password again.");
        }

        public async Task CallAsync(string path, object request, CancellationToken cancellationToken)
        {
            var (ok, body) = await SendAsync(path, request, withToken: true, cancellationToken);
            if (!ok)
            {
                throw new InvalidOperationException($"etcd at {member}: {path} failed: {ErrorOf(body)}");
            }
        }

        public async Task IgnoringAsync(string expectedError, string path, object request, CancellationToken cancellationToken)
        {
            var (ok, body) = await SendAsync(path, request, withToken: true, cancellationToken);
            if (!ok && !ErrorOf(body).Contains(expectedError, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"etcd at {member}: {path} failed: {ErrorOf(body)}");
            }
        }

        private async Task<(bool Ok, JsonElement Body)> SendAsync(string path, object request, bool withToken, CancellationToken cancellationToken)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(member, path)) { Content = JsonContent.Create(request) };
            if (withToken && token is not null)
            {
                message.Headers.TryAddWithoutValidation("Authorization", token);
            }

            using var response = await http.SendAsync(message, cancellationToken);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return (response.IsSuccessStatusCode, body);
        }

        private static string ErrorOf(JsonElement body) =>
            body.ValueKind == JsonValueKind.Object && (body.TryGetProperty("error", out var e) || body.TryGetProperty("message", out e)) ? e.GetString() ?? "" : body.ToString();
    }

    /// <summary>etcd has authentication on and refuses root's password: nothing a retry would change.</summary>
    public sealed class RootLoginRefusedException(string message) : InvalidOperationException(message);
}
