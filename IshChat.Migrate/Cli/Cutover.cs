using System.Diagnostics;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Output;
using IshChat.Migrate.Target;
using Microsoft.Data.Sqlite;

namespace IshChat.Migrate.Cli;

/// <summary>
/// cutover, the runbook as a command: take SQLite's write lock (the legacy app's writes now wait
/// and then fail with "database is locked"), run the final sync and a verify under it, make the
/// file read-only so the freeze outlasts this process, and print the switch-over checklist. The
/// freeze lasts one sync of the last delta plus one verify: seconds, because import and earlier
/// syncs already moved everything else.
/// </summary>
public sealed class Cutover(Options options, Summary summary, TextWriter log)
{
    public async Task<int> RunAsync(Func<ChatTarget, LegacyDatabase, Guid, Task<int>> sync, Func<ChatTarget, LegacyDatabase, Guid, Task<int>> verify, CancellationToken cancellationToken)
    {
        var path = options.Required("sqlite");
        using var legacy = LegacyDatabase.Open(path, writable: true);
        await using var target = new ChatTarget(options.Connection, log);
        var (instanceId, _) = await InstanceDirectory.ResolveAsync(target, options.InstanceId, options.Get("instance"), "standard", create: false, cancellationToken);
        summary["instance_id"] = instanceId.ToString();

        var frozen = Stopwatch.StartNew();
        try
        {
            // BEGIN IMMEDIATE: no other connection may write until we end it; readers carry on.
            using (var freeze = legacy.Connection.CreateCommand())
            {
                freeze.CommandText = "BEGIN IMMEDIATE";
                freeze.ExecuteNonQuery();
            }
        }
        catch (SqliteException ex)
        {
            throw LegacyDatabase.Explain(ex, path);
        }

        int exit;
        try
        {
            log.WriteLine("Legacy writes frozen; final sync");
            await sync(target, legacy, instanceId);
            exit = await verify(target, legacy, instanceId);
            if (exit == ExitCodes.Ok)
            {
                // Read-only for everyone: a legacy app restarted by mistake can no longer write.
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                }

                await target.InScopeAsync(instanceId, async (connection, ct) =>
                {
                    await Checkpoint.SetAsync(connection, instanceId, "frozen_at = now()", ct);
                    return 0;
                }, cancellationToken);
            }
        }
        finally
        {
            using var release = legacy.Connection.CreateCommand();
            release.CommandText = "ROLLBACK";
            release.ExecuteNonQuery();
        }

        summary["freeze_s"] = Math.Round(frozen.Elapsed.TotalSeconds, 2);
        summary["cutover"] = exit == ExitCodes.Ok ? "done" : "aborted: verify found differences; legacy writes are allowed again";
        summary["checklist"] = exit == ExitCodes.Ok
            ? new[]
            {
                $"The legacy file {Path.GetFullPath(path)} is now read-only; stop the legacy app (it can no longer write).",
                $"Give clients the instance's API key (import printed it) and point them at the chat API; instance {instanceId}.",
                "Clients keep their client_msg_id values: a retried post after the switch finds the imported message (200, not a duplicate).",
                $"Keep the reject report ({options.RejectsPath}) with the migration record; each line says why a row was not imported.",
                "Watch ishchat.api.messages.posted for this instance's type on the dashboard: traffic should move within minutes.",
                "Keep the legacy file until the retention period ends; re-running verify against it needs it.",
            }
            : ["Fix what verify reported (see the checks above), then run cutover again."];
        return exit;
    }
}
