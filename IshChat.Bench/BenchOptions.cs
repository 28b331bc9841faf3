namespace IshChat.Bench;

/// <summary>
/// Either <c>--url</c> (a running stack, e.g. the AppHost's API) or <c>--self-hosted cluster,single</c> (stacks the bench
/// starts itself with Testcontainers, one after another, each with the same API build).
/// </summary>
public sealed record BenchOptions(
    string? Url, string? AdminKey, IReadOnlyList<string> SelfHosted, int Clients, TimeSpan Duration, TimeSpan Warmup, string Label,
    SynchronousMode Synchronous = SynchronousMode.Off, bool ContainerAddresses = true, bool Isolation = false, int FloodClients = 64,
    bool Backups = false, int PgBouncerClients = 0, string? Profile = null)
{
    public const string Usage =
        "Usage: --url URL --admin-key KEY | --self-hosted cluster,leader,single   [--clients 16] [--seconds 30] [--warmup 5] [--label text] "
        + "[--synchronous off|on|quorum] [--address container|published] [--isolation [--flood-clients 64]] [--backups] [--pgbouncer-clients 1000] [--profile [perf|dotnet-trace]]";

    /// <summary>cluster: through PgBouncer and HAProxy; leader: the same cluster, API straight on the leader; single: one plain PostgreSQL.</summary>
    public static readonly string[] StackNames = ["cluster", "leader", "single"];

    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name)
        {
            var index = Array.LastIndexOf(args, name); // the last one wins: a wrapper script's defaults come first
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
        }

        int Number(string name, int fallback) =>
            Value(name) is not { } text ? fallback
            : int.TryParse(text, out var n) && n > 0 ? n
            : throw new ArgumentException($"{name} must be a positive whole number, not '{text}'. {Usage}");

        var selfHosted = Value("--self-hosted")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        if (selfHosted.FirstOrDefault(s => !StackNames.Contains(s)) is { } unknown)
        {
            throw new ArgumentException($"Unknown stack '{unknown}': use {string.Join(" or ", StackNames)}. {Usage}");
        }

        var url = Value("--url");
        if ((url is null) == (selfHosted.Length == 0))
        {
            throw new ArgumentException($"Give either --url or --self-hosted. {Usage}");
        }

        var adminKey = Value("--admin-key") ?? Environment.GetEnvironmentVariable("ISHCHAT_ADMIN_KEY");
        if (url is not null && string.IsNullOrEmpty(adminKey))
        {
            throw new ArgumentException($"--admin-key (or ISHCHAT_ADMIN_KEY) is required with --url. {Usage}");
        }

        // The self-hosted cluster's replication: asynchronous (the AppHost's default), one synchronous standby, or ANY 1.
        var synchronous = Value("--synchronous") is not { } mode ? SynchronousMode.Off
            : Enum.TryParse<SynchronousMode>(mode, ignoreCase: true, out var parsed) ? parsed
            : throw new ArgumentException($"--synchronous must be off, on or quorum, not '{mode}'. {Usage}");

        // The self-hosted API reaches containers at their network address (no Docker userland proxy), or at published ports.
        var containerAddresses = Value("--address") switch
        {
            null or "container" => true,
            "published" => false,
            var other => throw new ArgumentException($"--address must be container or published, not '{other}'. {Usage}"),
        };

        return new BenchOptions(url, adminKey, selfHosted, Number("--clients", 16),
            TimeSpan.FromSeconds(Number("--seconds", 30)), TimeSpan.FromSeconds(Number("--warmup", 5)), Value("--label") ?? "chat API", synchronous,
            containerAddresses, args.Contains("--isolation"), Number("--flood-clients", 64),
            // The self-hosted cluster archives WAL to a backup store, and the bench samples how far archiving trails.
            Backups: args.Contains("--backups"),
            // After the API run on the cluster: this many direct pgbench clients on PgBouncer (bench/clients.sh).
            PgBouncerClients: Value("--pgbouncer-clients") is null ? 0 : Number("--pgbouncer-clients", 0),
            // A CPU profile of the API over the measured window, under TestResults/profile/ (ApiProfile).
            Profile: !args.Contains("--profile") ? null
                : Value("--profile") is ApiProfile.Perf or ApiProfile.DotnetTrace ? Value("--profile")
                : ApiProfile.DefaultTool);
    }
}
