using IshChat.Api.Auth;
using IshChat.Api.Data;
using IshChat.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace IshChat.Api.Instances;

/// <summary>An instance's API keys: issue (optionally expiring) and revoke. Admin key only, like the rest of the group.</summary>
public static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeys(this RouteGroupBuilder instances)
    {
        instances.MapPost("/{instanceId}/api-keys", IssueApiKeyAsync);
        instances.MapDelete("/{instanceId}/api-keys/{keyId}", RevokeApiKeyAsync);
        return instances;
    }

    private static async Task<Results<Created<IssuedApiKey>, NotFound, ValidationProblem>> IssueApiKeyAsync(
        string instanceId, IssueApiKeyRequest? request, [FromKeyedServices(ChatDatabase.AdminName)] ChatDatabase database, HttpContext http)
    {
        var errors = new RequestErrors();
        var id = errors.Id("instanceId", instanceId);
        var expiresAt = request?.ExpiresAt;
        if (expiresAt is { } expiry && expiry <= DateTimeOffset.UtcNow)
        {
            errors.Add("expiresAt", "Must be in the future.");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var apiKey = ApiKeys.Generate();
        var write = await database.WriteAsync(id, async (connection, ct) =>
        {
            // The key's foreign key would reject an unknown instance; asking first gives a clean 404.
            var exists = await connection.Command("SELECT 1 FROM chat.instances WHERE instance_id = $1", id).ScalarAsync(ct) is not null;
            return exists ? await InsertKeyAsync(connection, id, apiKey, expiresAt, ct) : (Guid?)null;
        }, http.RequestAborted);

        if (write.Value is not { } keyId)
        {
            return TypedResults.NotFound();
        }

        http.Response.Headers[ConsistencyToken.HeaderName] = write.Token.ToString();
        return TypedResults.Created($"/admin/instances/{id}/api-keys/{keyId}", new IssuedApiKey(id, apiKey, keyId, expiresAt));
    }

    /// <summary>
    /// Refused from now on by this replica, within about a second by the others (Redis broadcast), and after at most
    /// <see cref="ApiKeyCacheOptions.KnownKeyLifetime"/> even if the broadcast is lost. Revoking twice is fine.
    /// </summary>
    private static async Task<Results<NoContent, NotFound, ValidationProblem>> RevokeApiKeyAsync(
        string instanceId, string keyId, [FromKeyedServices(ChatDatabase.AdminName)] ChatDatabase database, ApiKeyDirectory directory, HttpContext http)
    {
        var errors = new RequestErrors();
        var id = errors.Id("instanceId", instanceId);
        var key = errors.Id("keyId", keyId);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var write = await database.WriteAsync(id, (connection, ct) => connection
            .Command("""
                UPDATE chat.api_keys SET revoked_at = coalesce(revoked_at, now())
                 WHERE instance_id = $1 AND key_id = $2
                RETURNING key_hash
                """, id, key)
            .SingleOrDefaultAsync(reader => reader.GetFieldValue<byte[]>(0), ct), http.RequestAborted);
        if (write.Value is not { } hash)
        {
            return TypedResults.NotFound();
        }

        await directory.RevokedAsync(hash);
        return TypedResults.NoContent();
    }

    /// <summary>Stores the key's hash; returns its id (the existing one when an idempotent retry inserts the same key again).</summary>
    internal static async Task<Guid> InsertKeyAsync(NpgsqlConnection connection, Guid instanceId, string apiKey, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var hash = ApiKeys.Hash(apiKey);
        await connection.Command("INSERT INTO chat.api_keys (key_hash, instance_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", hash, instanceId, expiresAt)
            .ExecuteAsync(cancellationToken);
        return (Guid)(await connection.Command("SELECT key_id FROM chat.api_keys WHERE key_hash = $1", hash).ScalarAsync(cancellationToken))!;
    }
}
