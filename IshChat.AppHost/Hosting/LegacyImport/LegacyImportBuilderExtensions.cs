using IshChat.AppHost.Hosting.HAProxy;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.AppHost.Hosting.LegacyImport;

/// <summary>
/// The SQLite migration tool (ishchat-migrate, docs/migration.md) as an optional resource: when
/// <c>IshChat:LegacyImport:Sqlite</c> names a legacy file, the AppHost imports it into instance
/// <c>IshChat:LegacyImport:Instance</c> once the schema is applied, and the resource's commands run the tool's
/// other steps against the same file and cluster (plan, verify, sync, cutover). Each run's progress and summary are
/// the resource's log; its exit code its end state. Without the setting nothing is added.
/// </summary>
public static class LegacyImportBuilderExtensions
{
    public const string Section = "IshChat:LegacyImport";

    /// <summary>The tool's commands offered on the dashboard, in the order a migration uses them.</summary>
    public static readonly IReadOnlyList<(string Verb, string Title, string Description, string? Confirmation)> Steps =
    [
        ("plan", "Plan", "Reads the SQLite file and reports how each table maps and which rows would be rejected; writes nothing.", null),
        ("import", "Import", "Bulk-loads the file into the instance (resumes from its checkpoint; re-running changes nothing).", null),
        ("verify", "Verify", "Compares counts, checksums, foreign keys and a sample of rows on both sides; fails on any difference.", null),
        ("sync", "Sync", "Imports what changed in the SQLite file since the last import or sync.", null),
        ("cutover", "Cut over", "Freezes the legacy file's writes, runs the final sync and verify, makes the file read-only and prints the checklist.",
            "Freeze writes to the legacy SQLite file and cut over? The legacy app can no longer write to it afterwards."),
    ];

    /// <summary>
    /// Adds the <c>legacy-import</c> resource when a legacy file is configured; returns null otherwise. It connects as
    /// the admin role, and for import's message COPY as the importer role, straight through HAProxy's read-write ports
    /// (a real session: COPY and long transactions don't belong in a transaction pooler) and starts after the schema
    /// migrations completed.
    /// </summary>
    public static IResourceBuilder<ProjectResource>? AddLegacyImport(
        this IDistributedApplicationBuilder builder, [ResourceName] string name,
        IResourceBuilder<HAProxyResource> haproxy, IResourceBuilder<ProjectResource> migrations)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(haproxy);
        var section = builder.Configuration.GetSection(Section);
        if (section["Sqlite"] is not { Length: > 0 } sqlite)
        {
            return null;
        }

        var file = Path.GetFullPath(sqlite, builder.AppHostDirectory);
        var instance = section["Instance"] is { Length: > 0 } named ? named : Path.GetFileNameWithoutExtension(file);
        // The import tool creates the instance and its first key: the directory is the admin role's (docs/security.md).
        var target = haproxy.AddDatabase($"{name}-target", ClusterRoles.Admin);
        // Its bulk writes: COPY straight into the chat tables, which only a role that bypasses row-level security may do.
        var bulk = haproxy.AddDatabase($"{name}-bulk", ClusterRoles.Importer);
        // The verb of the next run: "import" when the AppHost starts, then whichever command was chosen.
        var next = new NextVerb("import");

        var tool = builder.AddProject<Projects.IshChat_Migrate>(name)
            .WithArgs(context =>
            {
                context.Args.Add(next.Verb);
                context.Args.Add("--sqlite");
                context.Args.Add(file);
                if (next.Verb != "plan")
                {
                    context.Args.Add("--instance");
                    context.Args.Add(instance);
                }

                // Reject reports beside the legacy file, one per instance, as a person running the tool would have them.
                if (next.Verb is "import" or "sync")
                {
                    context.Args.Add("--rejects");
                    context.Args.Add(file + ".rejects.jsonl");
                }
            })
            .WithEnvironment("ISHCHAT_MIGRATE_CONNECTION", target)
            .WithEnvironment("ISHCHAT_MIGRATE_IMPORTER_CONNECTION", bulk)
            .WaitForCompletion(migrations);

        foreach (var (verb, title, description, confirmation) in Steps)
        {
            tool.WithCommand($"legacy-{verb}", title, async context =>
            {
                next.Verb = verb;
                var commands = context.Services.GetRequiredService<ResourceCommandService>();
                var started = await commands.ExecuteCommandAsync(tool.Resource, KnownResourceCommands.StartCommand, context.CancellationToken);
                return started.Success
                    ? CommandResults.Success()
                    : CommandResults.Failure(started.Message ?? $"{name} did not start");
            }, new CommandOptions
            {
                Description = description,
                ConfirmationMessage = confirmation,
                IconName = verb == "cutover" ? "ArrowExportLtr" : "DatabaseArrowRight",
                // One run at a time: the tool's steps share a checkpoint and the file's lock.
                UpdateState = context => KnownResourceStates.TerminalStates.Contains(context.ResourceSnapshot.State?.Text ?? "")
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });
        }

        return tool;
    }

    private sealed class NextVerb(string verb)
    {
        public string Verb { get; set; } = verb;
    }
}
