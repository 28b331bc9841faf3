using Microsoft.AspNetCore.Http.HttpResults;
using IshChat.Api.Auth;
using Npgsql;
using IshChat.ServiceDefaults;

namespace IshChat.Api.Cluster;

/// <summary>
/// Where this API's reads and writes land, and which API replica answered: proof that the
/// read/write split reaches the cluster and that more than one API process serves it.
/// </summary>
public static class ClusterApi
{
    public static RouteGroupBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        // Internal addresses and process ids: for operators, behind the admin key.
        var group = app.MapGroup("/cluster").AddEndpointFilter<AdminKeyFilter>();
        group.MapGet("/route", GetRouteAsync);
        return group;
    }

    public sealed record RouteResponse(string ReadWriteServer, bool ReadWriteInRecovery, string ReadOnlyServer, bool ReadOnlyInRecovery, string ApiReplica);

    private static readonly string apiReplica = $"{Environment.MachineName}/{Environment.ProcessId}";

    private static async Task<Ok<RouteResponse>> GetRouteAsync(
        NpgsqlDataSource readWrite, [FromKeyedServices(ResourceNames.ChatDatabaseReadOnly)] NpgsqlDataSource readOnly, CancellationToken cancellationToken)
    {
        var (rwServer, rwRecovery) = await WhereAsync(readWrite, cancellationToken);
        var (roServer, roRecovery) = await WhereAsync(readOnly, cancellationToken);
        return TypedResults.Ok(new RouteResponse(rwServer, rwRecovery, roServer, roRecovery, apiReplica));
    }

    private static async Task<(string Server, bool InRecovery)> WhereAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(host(inet_server_addr()), 'local'), pg_is_in_recovery()");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetString(0), reader.GetBoolean(1));
    }
}
