using System.Security.Cryptography;
using System.Buffers.Text;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>Finds the instance an import goes to, by id or by name, or creates it as the admin API would.</summary>
public static class InstanceDirectory
{
    public static async Task<(Guid Id, string? NewApiKey)> ResolveAsync(
        ChatTarget target, Guid? id, string? name, string type, bool create, CancellationToken cancellationToken)
    {
        var matches = await target.InScopeAsync(null, async (connection, ct) =>
        {
            // The directory: every instance, for the admin role only (the tenant role can't list them).
            var found = new List<(Guid Id, string Name)>();
            Guid? after = null;
            while (true)
            {
                await using var command = new NpgsqlCommand("SELECT instance_id, name FROM chat.list_instances($1, 1000)", connection)
                {
                    Parameters = { new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid } },
                };
                var page = 0;
                await using (var reader = await command.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        page++;
                        after = reader.GetGuid(0);
                        found.Add((reader.GetGuid(0), reader.GetString(1)));
                    }
                }

                if (page < 1000)
                {
                    return found;
                }
            }
        }, cancellationToken);

        if (id is { } wanted)
        {
            return matches.Any(m => m.Id == wanted) ? (wanted, null)
                : throw new MigrationException(ExitCodes.BadInput, $"No instance {wanted} exists.");
        }

        var named = matches.Where(m => m.Name == name).ToList();
        switch (named.Count)
        {
            case 1:
                return (named[0].Id, null);
            case > 1:
                throw new MigrationException(ExitCodes.BadInput, $"{named.Count} instances are named '{name}'; pass --instance-id.");
            case 0 when !create:
                throw new MigrationException(ExitCodes.BadInput, $"No instance is named '{name}'; run import first (it creates it).");
        }

        var instanceId = Guid.CreateVersion7();
        // The key is shown once, like the admin API's POST /admin/instances; only its hash is stored.
        var apiKey = "ick_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new("INSERT INTO chat.instances (instance_id, name, instance_type) VALUES ($1, $2, $3)") { Parameters = { new() { Value = instanceId }, new() { Value = name! }, new() { Value = type } } },
                    new("INSERT INTO chat.api_keys (key_hash, instance_id) VALUES ($1, $2)") { Parameters = { new() { Value = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(apiKey)) }, new() { Value = instanceId } } },
                },
            };
            return await batch.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
        return (instanceId, apiKey);
    }
}
