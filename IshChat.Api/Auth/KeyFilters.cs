using IshChat.Api.Data;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IshChat.Api.Auth;

public sealed class ChatOptions
{
    /// <summary>The admin API key (an Aspire secret parameter); admin endpoints refuse every request when unset.</summary>
    public string? AdminApiKey { get; set; }
}

/// <summary>Lets a request through only with an instance's API key, and scopes it to that instance.</summary>
public sealed class InstanceKeyFilter(ChatDatabase database, IMemoryCache knownKeys) : IEndpointFilter
{
    // Keys are never revoked today; a revocation would have to wait out this lifetime.
    private static readonly TimeSpan keyLifetime = TimeSpan.FromMinutes(5);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!TryReadKey(http, out var key))
        {
            return KeyProblems.Unauthorized("Send an instance API key in the X-Api-Key header.");
        }

        var hash = ApiKeys.Hash(key);
        var cacheKey = Convert.ToHexString(hash);
        if (!knownKeys.TryGetValue(cacheKey, out InstanceContext? instance))
        {
            // Unknown keys are not remembered: guessing must not fill memory.
            instance = await database.DirectoryAsync((connection, ct) => FindInstanceAsync(connection, hash, ct), http.RequestAborted);
            if (instance is null)
            {
                return KeyProblems.Unauthorized("The API key is not valid.");
            }

            knownKeys.Set(cacheKey, instance, keyLifetime);
        }

        instance!.AttachTo(http);
        return await next(context);
    }

    internal static bool TryReadKey(HttpContext http, out string key)
    {
        key = http.Request.Headers[ApiKeys.HeaderName].ToString();
        return key.Length is > 0 and <= ApiKeys.MaxLength;
    }

    private static async Task<InstanceContext?> FindInstanceAsync(NpgsqlConnection connection, byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT instance_id, instance_type FROM chat.find_instance_by_key($1)", connection)
        {
            Parameters = { new() { Value = hash } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new InstanceContext(reader.GetGuid(0), reader.GetString(1)) : null;
    }
}

/// <summary>Lets a request through only with the admin key.</summary>
public sealed class AdminKeyFilter(IOptions<ChatOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var adminKey = options.Value.AdminApiKey;
        if (string.IsNullOrEmpty(adminKey) || !InstanceKeyFilter.TryReadKey(context.HttpContext, out var key) || !ApiKeys.Matches(key, adminKey))
        {
            return KeyProblems.Unauthorized("Instance management needs the admin API key in the X-Api-Key header.");
        }

        return await next(context);
    }
}

internal static class KeyProblems
{
    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
}
