using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace IshChat.Cluster.Etcd;

/// <summary>
/// Logs a host process (the AppHost, the test cluster) in to etcd as <paramref name="user"/> and sends its token with every
/// request. etcd's default tokens are kept by the member that issued them and die with it, so each member gets its own
/// token, and a request refused for its token (expired, issued before a restart, from an older auth revision, or none
/// yet) is sent once more after a fresh login, as Patroni does. On a cluster without authentication it sends none.
/// </summary>
public sealed class EtcdTokenHandler(string user, Func<CancellationToken, Task<string>> password) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, string?> tokens = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var member = request.RequestUri!.GetLeftPart(UriPartial.Authority);
        var content = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!tokens.TryGetValue(member, out var token))
        {
            token = await LoginAsync(member, cancellationToken);
        }

        var response = await base.SendAsync(WithToken(request, content, token), cancellationToken);
        if (!await IsRefusedForItsTokenAsync(response, sentToken: token is not null, cancellationToken))
        {
            return response;
        }

        response.Dispose();
        return await base.SendAsync(WithToken(request, content, await LoginAsync(member, cancellationToken)), cancellationToken);
    }

    /// <summary>A new token from <paramref name="member"/>, or null when its cluster has no authentication.</summary>
    private async Task<string?> LoginAsync(string member, CancellationToken cancellationToken)
    {
        using var login = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(member), "/v3/auth/authenticate"))
        {
            Content = JsonContent.Create(new { name = user, password = await password(cancellationToken) }),
        };
        using var response = await base.SendAsync(login, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var token = response.IsSuccessStatusCode ? body.GetProperty("token").GetString() : null;
        if (token is null && !ErrorOf(body).Contains("authentication is not enabled", StringComparison.Ordinal))
        {
            throw new HttpRequestException($"etcd at {member} refused {user}'s login: {ErrorOf(body)}", null, response.StatusCode);
        }

        tokens[member] = token;
        return token;
    }

    private static HttpRequestMessage WithToken(HttpRequestMessage original, byte[]? content, string? token)
    {
        var request = new HttpRequestMessage(original.Method, original.RequestUri) { Version = original.Version, VersionPolicy = original.VersionPolicy };
        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            foreach (var header in original.Content!.Headers)
            {
                request.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        foreach (var header in original.Headers.Where(h => h.Key != "Authorization"))
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        return request;
    }

    /// <summary>
    /// etcd's answers when a token is missing, expired, unknown to this member, or older than the auth store. Without a
    /// token, etcd's gateway may also answer "permission denied": it then judges the request as the user named by its own
    /// internal client certificate (the member's, <c>CN=etcd-N</c>, no such user) unless the client sent an Accept header.
    /// </summary>
    private static async Task<bool> IsRefusedForItsTokenAsync(HttpResponseMessage response, bool sentToken, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode || response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden))
        {
            return false;
        }

        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var error = await response.Content.ReadAsStringAsync(cancellationToken);
        return error.Contains("invalid auth token", StringComparison.Ordinal)
            || error.Contains("user name is empty", StringComparison.Ordinal)
            || error.Contains("revision of auth store is old", StringComparison.Ordinal)
            || (!sentToken && error.Contains("permission denied", StringComparison.Ordinal));
    }

    private static string ErrorOf(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var e) ? e.GetString() ?? "" : body.ToString();
}
