using System.Text.Encodings.Web;
using System.Text.Json;
using IshChat.Migrate.Target;
using Npgsql;

namespace IshChat.Migrate.Output;

/// <summary>
/// The reject report: every legacy row not imported, one JSON object a line, written from
/// chat.legacy_rejects (not from this run's memory), so a resumed import's report is complete.
/// </summary>
public static class RejectReport
{
    private static readonly JsonSerializerOptions json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(ChatTarget target, Guid instanceId, string path, Summary summary, CancellationToken cancellationToken)
    {
        var count = await target.InScopeAsync(instanceId, async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT legacy_table, legacy_rowid, legacy_id, reason_code, reason, raw_row FROM chat.legacy_rejects ORDER BY legacy_table, legacy_rowid", connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            try
            {
                await using var file = new StreamWriter(path, append: false);
                var written = 0L;
                while (await reader.ReadAsync(ct))
                {
                    await file.WriteLineAsync(JsonSerializer.Serialize(new
                    {
                        table = reader.GetString(0), rowid = reader.GetInt64(1), legacy_id = reader.GetString(2),
                        code = reader.GetString(3), reason = reader.GetString(4), row = reader.GetString(5),
                    }, json).AsMemory(), ct);
                    written++;
                }

                return written;
            }
            catch (IOException ex) when (ex.HResult is 28 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase))
            {
                throw new MigrationException(ExitCodes.DiskFull, $"The disk is full writing the reject report '{path}': {ex.Message}", ex);
            }
        }, cancellationToken);
        summary["rejects_report"] = Path.GetFullPath(path);
        summary["rejects_reported"] = count;
    }
}
