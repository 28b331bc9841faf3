using IshChat.Cluster.Backup;
using IshChat.Cluster.InstanceRestore;

// ishchat-restore-instance: "restore instance X to time T" (docs/backup.md#per-instance-restore).
const string Usage = """
    usage: ishchat-restore-instance --node CONTAINER --instance UUID (--time T | --lsn LSN | --restore-point NAME | --latest)
                                    [--live CONNECTION_STRING] [--overwrite] [--dry-run] [--timeout-minutes N]

      --node       a Patroni node's container (docker name or id): the side restore takes its repository settings,
                   secrets, image and network from it
      --live       the live database as ishchat_admin through the read-write route (default: $ISHCHAT_LIVE_CONNECTION),
                   e.g. "Host=127.0.0.1;Port=<HAProxy read-write>;Database=ishchat;Username=ishchat_admin;Password=…"
      --time       e.g. "2026-11-25 14:03:00+00" (UTC unless it names an offset)
      --overwrite  rows changed since the target take the target's values (default: kept as they are live)
      --dry-run    compare and report, write nothing
    """;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

string? node = null, live = Environment.GetEnvironmentVariable("ISHCHAT_LIVE_CONNECTION"), instance = null;
RestoreTarget? target = null;
bool overwrite = false, dryRun = false;
var timeout = TimeSpan.FromMinutes(60);
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
        switch (args[i])
        {
            case "--node": node = Value(); break;
            case "--live": live = Value(); break;
            case "--instance": instance = Value(); break;
            case "--time": target = RestoreTarget.Parse("time", Value()); break;
            case "--lsn": target = RestoreTarget.Parse("lsn", Value()); break;
            case "--restore-point": target = RestoreTarget.Parse("name", Value()); break;
            case "--latest": target = RestoreTarget.Latest; break;
            case "--overwrite": overwrite = true; break;
            case "--dry-run": dryRun = true; break;
            case "--timeout-minutes": timeout = TimeSpan.FromMinutes(int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture)); break;
            case "--help" or "-h": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
        }
    }

    if (node is null || instance is null || target is null || string.IsNullOrEmpty(live))
    {
        throw new ArgumentException("--node, --instance, a target and --live (or ISHCHAT_LIVE_CONNECTION) are required.");
    }

    if (!Guid.TryParse(instance, out var instanceId))
    {
        throw new ArgumentException($"--instance '{instance}' is not a UUID.");
    }

    var progress = new ConsoleProgress();
    var report = await InstanceRestorer.RestoreAsync(node, live, instanceId, target, overwrite, dryRun, timeout, progress, cancellationToken: cancel.Token);
    Console.WriteLine();
    Console.WriteLine(report);
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 64;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("Interrupted: the live transaction rolled back, nothing was written; the side restore container is removed.");
    return 130;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or Npgsql.NpgsqlException or IshChat.Cluster.Docker.DockerCommandException)
{
    Console.Error.WriteLine($"Restore failed, nothing was written: {ex.Message}");
    return 1;
}

/// <summary>Each progress line as it comes, with the time, on stderr (stdout carries the report).</summary>
internal sealed class ConsoleProgress : IProgress<string>
{
    public void Report(string value) => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {value}");
}
