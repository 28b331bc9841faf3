using System.Diagnostics;
using System.Text.Json;
using IshChat.Migrate.Generate;
using IshChat.Migrate.Legacy;
using IshChat.Migrate.Mapping;
using IshChat.Migrate.Output;
using IshChat.Migrate.Target;
using Npgsql;

namespace IshChat.Migrate.Cli;

/// <summary>One method per command; each fills a <see cref="Summary"/> and returns the exit status.</summary>
public static class Commands
{
    private static readonly TextWriter log = Console.Error;

    public static async Task<int> RunAsync(Options options, CancellationToken cancellationToken)
    {
        var (exit, summary) = await ExecuteAsync(options, cancellationToken);
        summary.Write(options.Json);
        return exit;
    }

    /// <summary>Runs a command and hands back its summary unprinted (tests read it).</summary>
    public static async Task<(int Exit, Summary Summary)> ExecuteAsync(Options options, CancellationToken cancellationToken)
    {
        var summary = new Summary(options.Command);
        var stopwatch = Stopwatch.StartNew();
        var exit = await ProgressHost.RunAsync(options.Bars, log, progress => options.Command switch
        {
            "generate" => Task.FromResult(Generate(options, summary, progress)),
            "plan" => Task.FromResult(Plan(options, summary, progress)),
            "import" => WithTargetAsync(options, summary, create: true, (target, legacy, id) => ImportAsync(options, summary, target, legacy, id, progress, cancellationToken), cancellationToken),
            "verify" => WithTargetAsync(options, summary, create: false, (target, legacy, id) => VerifyAsync(options, summary, target, legacy, id, progress, 200, cancellationToken), cancellationToken),
            "sync" => WithTargetAsync(options, summary, create: false, (target, legacy, id) => SyncAsync(options, summary, target, legacy, id, progress, cancellationToken), cancellationToken),
            "cutover" => CutoverAsync(options, summary, progress, cancellationToken),
            _ => throw new MigrationException(ExitCodes.BadInput, $"Unknown command '{options.Command}'.\n\n{Options.Usage}"),
        });
        summary["elapsed_s"] = Math.Round(stopwatch.Elapsed.TotalSeconds, 2);
        summary["exit_code"] = exit;
        return (exit, summary);
    }

    private static int Generate(Options options, Summary summary, IProgressSteps progress)
    {
        var path = options.Required("out");
        var messages = options.Number("messages", 10_000);
        var seed = (int)options.Number("seed", 1);
        GeneratorManifest manifest;
        using (var step = progress.Start("Generating messages", messages, "rows"))
        {
            manifest = new LegacyGenerator(seed, options.Fraction("dirt", 0.02)) { TrackTimes = false }
                .Generate(path, messages, done => step.Value(done));
        }

        summary["file"] = Path.GetFullPath(path);
        summary["messages"] = messages;
        summary["bytes"] = new FileInfo(path).Length;
        summary["dirty_rows"] = manifest.ExpectedRejects.Count;
        if (options.Get("manifest") is { } manifestPath)
        {
            File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest.ExpectedRejects.Select(r => new { table = r.Key.Table, rowid = r.Key.RowId, code = r.Value })));
        }

        return ExitCodes.Ok;
    }

    private static int Plan(Options options, Summary summary, IProgressSteps progress)
    {
        using var legacy = LegacyDatabase.Open(options.Required("sqlite"));
        LegacySnapshot snapshot;
        using (var step = progress.Start("Reading legacy rows", legacy.ReadHighWater().Messages, "rows"))
        {
            snapshot = LegacySnapshot.Read(legacy, Guid.Empty, HighWater.All, read => step.Value(read));
        }

        summary["source"] = Path.GetFullPath(legacy.Path);
        summary["schema_version"] = LegacySchema.SupportedVersion;
        summary["mapping"] = MappingDescription.Lines;
        Describe(summary, snapshot);
        summary["not_migrated"] = LegacySchema.NotMigrated.ToDictionary(t => t, t => legacy.Count(t));
        return ExitCodes.Ok;
    }

    private static void Describe(Summary summary, LegacySnapshot snapshot)
    {
        summary["importable"] = new Dictionary<string, long>
        {
            [LegacySchema.Devices] = snapshot.Devices.Count, [LegacySchema.Sessions] = snapshot.Sessions.Count, [LegacySchema.Messages] = snapshot.ValidMessages,
        };
        summary["rejected"] = snapshot.AllRejects.GroupBy(r => r.Table)
            .ToDictionary(t => t.Key, t => t.GroupBy(r => r.Code).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.LongCount()));
        summary["rejected_total"] = snapshot.AllRejects.LongCount();
        summary["derived_client_ids"] = snapshot.DerivedClientIds;
    }

    private static async Task<int> WithTargetAsync(Options options, Summary summary, bool create, Func<ChatTarget, LegacyDatabase, Guid, Task<int>> work, CancellationToken cancellationToken)
    {
        using var legacy = LegacyDatabase.Open(options.Required("sqlite"));
        await using var target = new ChatTarget(options.Connection, log);
        var name = options.InstanceId is null ? options.Required("instance") : options.Get("instance");
        var (instanceId, apiKey) = await InstanceDirectory.ResolveAsync(target, options.InstanceId, name, options.Get("instance-type") ?? "standard", create, cancellationToken);
        summary["instance_id"] = instanceId.ToString();
        if (apiKey is not null)
        {
            summary["instance_created"] = true;
            summary["api_key"] = apiKey;
        }

        var exit = await work(target, legacy, instanceId);
        summary.Values.TryAdd("retries_after_failures", target.Retries);
        return exit;
    }

    private static async Task<int> ImportAsync(Options options, Summary summary, ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var direct = await ImporterRoleUsableAsync(options, instanceId, cancellationToken);
        var importer = new Importer(target, legacy, instanceId, progress, options.Get("chunk") is null ? null : (int)options.Number("chunk", 0), (int)options.Number("writers", 3),
            () => new ChatTarget(direct ? options.ImporterConnection! : options.Connection, log), direct);
        var result = await importer.RunAsync(cancellationToken);
        summary["retries_after_failures"] = importer.Retries + target.Retries;
        var seconds = stopwatch.Elapsed.TotalSeconds;
        summary["resumed"] = result.Resumed;
        summary["already_imported"] = result.AlreadyDone;
        Describe(summary, result.Snapshot);
        var rows = result.Snapshot.Devices.Count + result.Snapshot.Sessions.Count + result.Snapshot.ValidMessages;
        summary["import_s"] = Math.Round(seconds, 2);
        summary["messages_path"] = direct ? "copy (importer role)" : "staged (admin role)";
        summary["messages_per_s"] = Math.Round(result.Snapshot.ValidMessages / seconds);
        summary["rows_per_s"] = Math.Round(rows / seconds);
        summary["source_mb_per_s"] = Math.Round(new FileInfo(legacy.Path).Length / 1e6 / seconds, 1);
        await RejectReport.WriteAsync(target, instanceId, options.RejectsPath, summary, cancellationToken);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Whether the messages go through the importer role (<see cref="DirectCopy"/>): its connection is given and the role
    /// holds what the migrations grant it. A login that fails is an error; a role without the grants (a cluster
    /// bootstrapped before it existed) falls back to the admin role's staged path, and says so.
    /// </summary>
    private static async Task<bool> ImporterRoleUsableAsync(Options options, Guid instanceId, CancellationToken cancellationToken)
    {
        if (options.ImporterConnection is not { } connection)
        {
            return false;
        }

        await using var probe = new ChatTarget(connection, log);
        try
        {
            if (await probe.InScopeAsync(instanceId, DirectCopy.AvailableAsync, cancellationToken))
            {
                return true;
            }

            log.WriteLine("The --importer-connection role does not bypass row-level security or lacks the grants of 0004_importer_role.sql: " +
                "the messages go through the admin role's staging tables instead (slower). docs/migration.md says how to create the role.");
        }
        catch (MigrationException refused) when (refused.InnerException is PostgresException { SqlState: "28P01" or "28000" } login)
        {
            // No such role yet (a cluster bootstrapped before it) looks the same as a wrong password: neither stops the import.
            log.WriteLine($"The --importer-connection login was refused ({login.MessageText}): the messages go through the admin role's " +
                "staging tables instead (slower). Check its user and password; docs/migration.md says how to create the role.");
        }

        return false;
    }

    private static async Task<int> VerifyAsync(Options options, Summary summary, ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, int defaultSample, CancellationToken cancellationToken)
    {
        var result = await new Verifier(target, legacy, instanceId, progress, (int)options.Number("sample", defaultSample)).RunAsync(cancellationToken);
        summary["verified"] = result.Ok;
        summary["checks"] = result.Checks.Select(c => new { check = c.Name, ok = c.Ok, expected = c.Expected, actual = c.Actual }).ToList();
        foreach (var failed in result.Checks.Where(c => !c.Ok))
        {
            log.WriteLine($"MISMATCH {failed.Name}: legacy {failed.Expected}, PostgreSQL {failed.Actual}");
        }

        return result.Ok ? ExitCodes.Ok : ExitCodes.Mismatch;
    }

    private static async Task<int> SyncAsync(Options options, Summary summary, ChatTarget target, LegacyDatabase legacy, Guid instanceId, IProgressSteps progress, CancellationToken cancellationToken)
    {
        var delta = await new Syncer(target, legacy, instanceId, progress).RunAsync(cancellationToken);
        summary["delta"] = delta.Counts;
        await RejectReport.WriteAsync(target, instanceId, options.RejectsPath, summary, cancellationToken);
        return ExitCodes.Ok;
    }

    private static Task<int> CutoverAsync(Options options, Summary summary, IProgressSteps progress, CancellationToken cancellationToken) =>
        new Cutover(options, summary, log).RunAsync(
            (target, legacy, id) => SyncAsync(options, summary, target, legacy, id, progress, cancellationToken),
            (target, legacy, id) => VerifyAsync(options, summary, target, legacy, id, progress, 1000, cancellationToken),
            cancellationToken);
}
