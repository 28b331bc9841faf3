extern alias migrate;

using migrate::IshChat.Migrate.Cli;
using migrate::IshChat.Migrate.Generate;
using migrate::IshChat.Migrate.Output;
using Npgsql;

namespace IshChat.Tests.Migration;

/// <summary>Runs ishchat-migrate commands in this process, as the command line would, and reads an instance's rows scoped to it.</summary>
public sealed class MigrationRun(MigrationClusterFixture fixture, string sqlite, string instance)
{
    public string Sqlite { get; } = sqlite;

    public string Instance { get; } = instance;

    public string RejectsPath => Sqlite + ".rejects.jsonl";

    public static MigrationRun Generate(MigrationClusterFixture fixture, string name, long messages, double dirt, int seed, out GeneratorManifest manifest)
    {
        var path = fixture.NewPath(name);
        manifest = new LegacyGenerator(seed, dirt) { TrackTimes = true }.Generate(path, messages);
        return new MigrationRun(fixture, path, $"{name}-{Guid.NewGuid():N}");
    }

    /// <summary>The command line as production's: the admin role, and for import's message COPY the importer role.</summary>
    public string[] Arguments(string command, params string[] extra) =>
        [command, "--sqlite", Sqlite, "--instance", Instance, "--connection", fixture.LeaderConnectionString(ClusterRoles.Admin),
         "--importer-connection", fixture.LeaderConnectionString(ClusterRoles.Importer), "--rejects", RejectsPath, "--json", .. extra];

    public async Task<(int Exit, Summary Summary)> RunAsync(string command, params string[] extra) =>
        await Commands.ExecuteAsync(Options.Parse(Arguments(command, extra)), CancellationToken.None);

    public async Task<Guid> InstanceIdAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.LeaderConnectionString(ClusterRoles.Admin));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT instance_id FROM chat.list_instances(NULL, 1000) WHERE name = $1", connection) { Parameters = { new() { Value = Instance } } };
        return (Guid)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Rows as the import tool's role (ishchat_admin) sees them with the transaction scoped to <paramref name="scope"/> (null: unscoped).</summary>
    public async Task<List<object?[]>> QueryAsync(Guid? scope, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(fixture.LeaderConnectionString(ClusterRoles.Admin));
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (scope is { } id)
        {
            await using var set = new NpgsqlCommand("SELECT set_config('ishchat.instance_id', $1, true)", connection) { Parameters = { new() { Value = id.ToString() } } };
            await set.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new() { Value = parameter });
        }

        var rows = new List<object?[]>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }
        }

        await transaction.CommitAsync();
        return rows;
    }

    public async Task<long> CountAsync(Guid? scope, string sql, params object[] parameters) => Convert.ToInt64((await QueryAsync(scope, sql, parameters))[0][0], System.Globalization.CultureInfo.InvariantCulture);
}
