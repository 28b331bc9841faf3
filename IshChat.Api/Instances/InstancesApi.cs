using IshChat.Api.Auth;
using IshChat.Api.Data;
using IshChat.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace IshChat.Api.Instances;

/// <summary>Instance management: the tenants of the multi-instance system. Admin key only.</summary>
public static class InstancesApi
{
    private const int MaxPageSize = 200;

    public static RouteGroupBuilder MapInstancesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/instances").WithTags("Instances").AddEndpointFilter<AdminKeyFilter>();
        group.MapPost("/", CreateInstanceAsync);
        group.MapGet("/", ListInstancesAsync);
        group.MapGet("/{instanceId}", GetInstanceAsync);
        group.MapApiKeys();
        return group;
    }

    private static async Task<Results<Created<CreatedInstanceResponse>, Ok<CreatedInstanceResponse>, Conflict<ProblemDetails>, ValidationProblem>> CreateInstanceAsync(
        CreateInstanceRequest request, [FromKeyedServices(ChatDatabase.AdminName)] ChatDatabase database, IOptions<ChatOptions> options, HttpContext http)
    {
        var errors = new RequestErrors();
        errors.AddIf("name", TextRules.CheckName(request.Name));
        if (request.Type is null || !InstanceTypes.All.Contains(request.Type))
        {
            errors.Add("type", $"Must be one of: {string.Join(", ", InstanceTypes.All)}.");
        }

        var idempotencyKey = IdempotencyKey.Read(http, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // Generated before the retry loop, so a retried transaction inserts the same rows (or finds them). With an
        // Idempotency-Key the id and the API key are derived from it (the key keyed by the admin key, so only an admin
        // can reproduce it): a client retrying after a lost response gets the instance and the key it never saw.
        var instanceId = idempotencyKey is null ? Guid.CreateVersion7() : IdempotencyKey.DeriveId(Guid.Empty, "instance", idempotencyKey);
        var instance = new InstanceResponse(instanceId, request.Name!, request.Type!, DateTimeOffset.UtcNow);
        var apiKey = idempotencyKey is null ? ApiKeys.Generate() : ApiKeys.Derive(options.Value.AdminApiKey!, $"instance/{idempotencyKey}");
        var write = await database.WriteAsync(instance.InstanceId, async (connection, ct) =>
        {
            var rows = await connection.Command(
                "INSERT INTO chat.instances (instance_id, name, instance_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                instance.InstanceId, instance.Name, instance.Type, instance.CreatedAt).ExecuteAsync(ct);
            var keyId = await ApiKeysApi.InsertKeyAsync(connection, instance.InstanceId, apiKey, expiresAt: null, ct);
            return (Inserted: rows == 1, KeyId: keyId, Stored: rows == 1 ? instance : await connection
                .Command("SELECT instance_id, name, instance_type, created_at FROM chat.instances WHERE instance_id = $1", instance.InstanceId)
                .SingleOrDefaultAsync(ReadInstance, ct));
        }, http.RequestAborted);

        http.Response.Headers[ConsistencyToken.HeaderName] = write.Token.ToString();
        var (inserted, keyId, stored) = write.Value;
        if (inserted)
        {
            return TypedResults.Created($"/admin/instances/{instance.InstanceId}", new CreatedInstanceResponse(instance, apiKey, keyId));
        }

        return stored is not null && stored.Name == instance.Name && stored.Type == instance.Type
            ? TypedResults.Ok(new CreatedInstanceResponse(stored, apiKey, keyId))
            : Problems.Conflict($"This {IdempotencyKey.HeaderName} was already used to create an instance with another name or type.");
    }

    private static async Task<Results<Ok<InstancePage>, ValidationProblem>> ListInstancesAsync(
        string? after, string? limit, [FromKeyedServices(ChatDatabase.AdminName)] ChatDatabase database, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        Guid? afterId = after is null ? null : errors.Id("after", after);
        var pageSize = errors.Limit(limit, fallback: 50, max: MaxPageSize);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var items = await database.DirectoryAsync((connection, ct) => connection
            .Command("SELECT instance_id, name, instance_type, created_at FROM chat.list_instances($1, $2)", afterId, pageSize)
            .ListAsync(ReadInstance, ct), cancellationToken);
        return TypedResults.Ok(new InstancePage(items, items.Count == pageSize ? items[^1].InstanceId.ToString() : null));
    }

    private static async Task<Results<Ok<InstanceResponse>, NotFound, ValidationProblem>> GetInstanceAsync(
        string instanceId, [FromKeyedServices(ChatDatabase.AdminName)] ChatDatabase database, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var id = errors.Id("instanceId", instanceId);
        // The creator's consistency token: a replica that hasn't replayed the creation yet would answer 404.
        var token = errors.Token(http);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // Scoped to the instance asked for: row-level security answers whether it exists.
        var read = await database.ReadAsync(id, token, (connection, ct) => connection
            .Command("SELECT instance_id, name, instance_type, created_at FROM chat.instances WHERE instance_id = $1", id)
            .SingleOrDefaultAsync(ReadInstance, ct), cancellationToken);
        return read.Value is { } instance ? TypedResults.Ok(instance) : TypedResults.NotFound();
    }

    private static InstanceResponse ReadInstance(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
}
