using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// Healthy only when a query through the component returns what it should: a port that accepts
/// TCP but routes nowhere (HAProxy with no leader, PgBouncer with no server) is not healthy.
/// </summary>
internal sealed class PostgresQueryHealthCheck(
    Func<CancellationToken, Task<string?>> connectionString, string query, Func<object?, string?> problemWithResult) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (await connectionString(cancellationToken) is not { } value)
        {
            return HealthCheckResult.Unhealthy("No connection string yet.");
        }

        try
        {
            // No pooling: a health check must open a fresh path through the router every time.
            var builder = new NpgsqlConnectionStringBuilder(value) { Pooling = false, Timeout = 3, CommandTimeout = 3 };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(query, connection);
            var result = await command.ExecuteScalarAsync(cancellationToken);
            return problemWithResult(result) is { } problem ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }
}
