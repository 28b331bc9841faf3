using IshChat.Api.Auth;
using IshChat.Api.Data;
using IshChat.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace IshChat.Api.Devices;

public sealed record RegisterDeviceRequest(string? Name);

public sealed record DeviceResponse(Guid DeviceId, string Name, DateTimeOffset CreatedAt);

public sealed record DevicePage(IReadOnlyList<DeviceResponse> Items, string? NextCursor);

/// <summary>Devices registered with the caller's instance.</summary>
public static class DevicesApi
{
    private const int MaxPageSize = 200;
    private const string Columns = "device_id, name, created_at";

    public static RouteGroupBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/devices").WithTags("Devices").AddEndpointFilter<InstanceKeyFilter>();
        group.MapPost("/", RegisterDeviceAsync);
        group.MapGet("/", ListDevicesAsync);
        group.MapGet("/{deviceId}", GetDeviceAsync);
        return group;
    }

    private static async Task<Results<Created<DeviceResponse>, Ok<DeviceResponse>, Conflict<ProblemDetails>, ValidationProblem>> RegisterDeviceAsync(
        RegisterDeviceRequest request, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        errors.AddIf("name", TextRules.CheckName(request.Name));
        var idempotencyKey = IdempotencyKey.Read(chat.Http, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        var deviceId = idempotencyKey is null ? Guid.CreateVersion7() : IdempotencyKey.DeriveId(instanceId, "device", idempotencyKey);
        var device = new DeviceResponse(deviceId, request.Name!, DateTimeOffset.UtcNow);
        var (inserted, stored) = chat.Written(await chat.Database.WriteAsync(chat.Instance, async (connection, ct) =>
        {
            var rows = await connection.Command(
                "INSERT INTO chat.devices (instance_id, device_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                instanceId, device.DeviceId, device.Name, device.CreatedAt).ExecuteAsync(ct);
            return (rows == 1, rows == 1 ? device : await connection
                .Command($"SELECT {Columns} FROM chat.devices WHERE instance_id = $1 AND device_id = $2", instanceId, device.DeviceId)
                .SingleOrDefaultAsync(ReadDevice, ct));
        }, chat.Aborted));

        if (inserted)
        {
            return TypedResults.Created($"/devices/{device.DeviceId}", device);
        }

        // The same key again: the device its first request registered, unless this one asked for something else.
        return stored is not null && stored.Name == device.Name
            ? TypedResults.Ok(stored)
            : Problems.Conflict($"This {IdempotencyKey.HeaderName} was already used to register a device with another name.");
    }

    private static async Task<Results<Ok<DevicePage>, ValidationProblem>> ListDevicesAsync(
        string? after, string? limit, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        Guid? afterId = after is null ? null : errors.Id("after", after);
        var pageSize = errors.Limit(limit, fallback: 50, max: MaxPageSize);
        var token = errors.Token(chat.Http);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        var items = chat.Read(await chat.Database.ReadAsync(chat.Instance, token, (connection, ct) => connection.Command(
            $"SELECT {Columns} FROM chat.devices WHERE instance_id = $1 AND ($2::uuid IS NULL OR device_id > $2) ORDER BY device_id LIMIT $3",
            instanceId, afterId, pageSize).ListAsync(ReadDevice, ct), chat.Aborted));
        return TypedResults.Ok(new DevicePage(items, items.Count == pageSize ? items[^1].DeviceId.ToString() : null));
    }

    private static async Task<Results<Ok<DeviceResponse>, NotFound, ValidationProblem>> GetDeviceAsync(
        string deviceId, [AsParameters] ChatRequest chat)
    {
        var errors = new RequestErrors();
        var id = errors.Id("deviceId", deviceId);
        var token = errors.Token(chat.Http);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var instanceId = chat.Instance.InstanceId;
        var device = chat.Read(await chat.Database.ReadAsync(chat.Instance, token, (connection, ct) => connection.Command(
            $"SELECT {Columns} FROM chat.devices WHERE instance_id = $1 AND device_id = $2", instanceId, id)
            .SingleOrDefaultAsync(ReadDevice, ct), chat.Aborted));
        return device is null ? TypedResults.NotFound() : TypedResults.Ok(device);
    }

    private static DeviceResponse ReadDevice(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
}
