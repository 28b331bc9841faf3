using System.Globalization;

namespace IshChat.Migrate.Cli;

/// <summary>The command line: <c>ishchat-migrate COMMAND --option value …</c>; flags take no value.</summary>
public sealed class Options
{
    private static readonly HashSet<string> flags = ["json", "no-progress", "help"];
    private readonly Dictionary<string, string> values = [];

    public required string Command { get; init; }

    public const string Usage = """
        ishchat-migrate: moves a legacy ISH Chat SQLite database into the PostgreSQL chat schema (docs/migration.md)

          generate --out FILE [--messages 10000] [--dirt 0.02] [--seed 1] [--manifest FILE]
          plan     --sqlite FILE
          import   --sqlite FILE --instance NAME [--instance-id UUID] [--instance-type standard] --connection CS [--importer-connection CS]
                   [--chunk N] [--writers 3] [--rejects FILE]
          verify   --sqlite FILE --instance NAME --connection CS [--sample 200]
          sync     --sqlite FILE --instance NAME --connection CS [--rejects FILE]
          cutover  --sqlite FILE --instance NAME --connection CS [--sample 1000]

        --connection: an Npgsql connection string to the leader through HAProxy's read-write port, as
        ishchat_admin (or ISHCHAT_MIGRATE_CONNECTION; the password may come from PGPASSWORD).
        --importer-connection: the same, as ishchat_importer, with its password (or ISHCHAT_MIGRATE_IMPORTER_CONNECTION):
        import then COPYs the messages straight into the chat schema; without it they are staged (slower).
        --json: the summary as JSON on stdout (progress goes to stderr). Exit: 0 ok, 1 verify found
        a difference, 2 bad input (file missing, locked, corrupt), 3 database, 4 disk full.
        """;

    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            throw new MigrationException(ExitCodes.BadInput, Usage);
        }

        var options = new Options { Command = args[0] };
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new MigrationException(ExitCodes.BadInput, $"Unexpected '{args[i]}'.\n\n{Usage}");
            }

            var name = args[i][2..];
            if (flags.Contains(name))
            {
                options.values[name] = "true";
            }
            else if (i + 1 < args.Length)
            {
                options.values[name] = args[++i];
            }
            else
            {
                throw new MigrationException(ExitCodes.BadInput, $"--{name} needs a value.");
            }
        }

        return options;
    }

    public bool Json => values.ContainsKey("json");

    public bool Bars => !Json && !values.ContainsKey("no-progress");

    public string? Get(string name) => values.GetValueOrDefault(name);

    public string Required(string name) => Get(name) ?? throw new MigrationException(ExitCodes.BadInput, $"{Command} needs --{name}.\n\n{Usage}");

    public long Number(string name, long fallback) => Get(name) is { } text
        ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new MigrationException(ExitCodes.BadInput, $"--{name} must be a positive integer.")
        : fallback;

    public double Fraction(string name, double fallback) => Get(name) is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d is >= 0 and <= 1 ? d : throw new MigrationException(ExitCodes.BadInput, $"--{name} must be between 0 and 1.")
        : fallback;

    public Guid? InstanceId => Get("instance-id") is { } text
        ? Guid.TryParse(text, out var id) ? id : throw new MigrationException(ExitCodes.BadInput, "--instance-id must be a UUID.")
        : null;

    public string Connection => Get("connection") ?? Environment.GetEnvironmentVariable("ISHCHAT_MIGRATE_CONNECTION")
        ?? throw new MigrationException(ExitCodes.BadInput, $"{Command} needs --connection (or ISHCHAT_MIGRATE_CONNECTION).");

    /// <summary>The importer role's connection string (docs/security.md), if given: import's messages are then COPYed straight.</summary>
    public string? ImporterConnection => Get("importer-connection")
        ?? (Environment.GetEnvironmentVariable("ISHCHAT_MIGRATE_IMPORTER_CONNECTION") is { Length: > 0 } fromEnvironment ? fromEnvironment : null);

    public string RejectsPath => Get("rejects") ?? Path.GetFileName(Required("sqlite")) + ".rejects.jsonl";
}
