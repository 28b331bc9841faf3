using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;
using IshChat.ServiceDefaults;

namespace IshChat.MigrationService;

/// <summary>
/// Runs the embedded SQL scripts with DbUp, as the schema-owning migrator role, over a session
/// connection (HAProxy's read-write port, not PgBouncer): DDL and DbUp's journal expect a session.
/// </summary>
public sealed class SchemaMigrator(string connectionString, ILogger logger)
{
    public const string ConnectionName = ResourceNames.ChatDatabaseMigrator;
    public const string Schema = "chat";

    /// <summary>A failover while the AppHost starts is possible; a leader is elected well within this.</summary>
    private static readonly TimeSpan retryFor = TimeSpan.FromSeconds(60);

    public async Task<bool> MigrateAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + retryFor;
        while (true)
        {
            try
            {
                // The journal lives in the chat schema, so the schema must exist before DbUp looks.
                await using (var connection = new NpgsqlConnection(connectionString))
                {
                    await connection.OpenAsync(cancellationToken);
                    await using var command = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {Schema}", connection);
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }

                var result = DeployChanges.To.PostgresqlDatabase(connectionString)
                    .WithScriptsEmbeddedInAssembly(typeof(SchemaMigrator).Assembly)
                    .JournalToPostgresqlTable(Schema, "schema_versions")
                    .WithTransactionPerScript()
                    // The scripts use dollar quoting ($fn$), which DbUp would mistake for its variables.
                    .WithVariablesDisabled()
                    .LogTo(new DbUpLog(logger))
                    .Build()
                    .PerformUpgrade();
                if (result.Successful)
                {
                    logger.LogInformation("Chat schema is up to date ({Count} scripts applied now)", result.Scripts.Count());
                    return true;
                }

                throw result.Error;
            }
            catch (Exception ex) when (ex is NpgsqlException { IsTransient: true } && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Migration hit a transient error ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Migration failed");
                return false;
            }
        }
    }

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        // DbUp formats with string.Format placeholders ({0}), not message templates: format first, log as one value.
        public void LogTrace(string format, params object[] args) => logger.LogTrace("{DbUp}", Format(format, args));

        public void LogDebug(string format, params object[] args) => logger.LogDebug("{DbUp}", Format(format, args));

        public void LogInformation(string format, params object[] args) => logger.LogInformation("{DbUp}", Format(format, args));

        public void LogWarning(string format, params object[] args) => logger.LogWarning("{DbUp}", Format(format, args));

        public void LogError(string format, params object[] args) => logger.LogError("{DbUp}", Format(format, args));

        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, "{DbUp}", Format(format, args));

        private static string Format(string format, object[] args) =>
            args.Length == 0 ? format : string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
    }
}
