using System.Diagnostics;
using System.Text.Json;
using IshChat.Cluster.Backup;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// A throwaway PostgreSQL restored from the backup repository to a point in time, beside the live cluster on its
/// network: the patroni image's <c>ishchat-side-restore</c> (pgBackRest restore, WAL replay, promote; no Patroni,
/// no etcd, no archiving). Its repository settings, secrets and image are a live node's, read from that node's
/// container, so it works the same against the AppHost, a Testcontainers cluster or a bench cluster. Its PostgreSQL
/// port is published on 127.0.0.1 only. Disposing removes the container and its data.
/// </summary>
public sealed class SideRestore : IAsyncDisposable
{
    /// <summary>Marks every side restore container, so a leftover one is easy to find (<c>docker ps --filter label=…</c>).</summary>
    public const string Label = "io.ishchat.side-restore";

    private const string FilesRestoredMarker = "ishchat-side-restore: files restored";

    private readonly string superuserPassword;

    private SideRestore(string containerName, string superuserPassword, int hostPort, TimeSpan duration)
    {
        ContainerName = containerName;
        this.superuserPassword = superuserPassword;
        HostPort = hostPort;
        Duration = duration;
    }

    public string ContainerName { get; }

    /// <summary>The restored PostgreSQL's port on 127.0.0.1.</summary>
    public int HostPort { get; }

    /// <summary>From <c>docker run</c> to the restored database accepting writes (promoted): the side restore's RTO.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The restored database as the superuser (row-level security does not apply: it is a throwaway copy).</summary>
    public string ConnectionString(string database = ClusterRoles.Database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = HostPort, Database = database, Username = ClusterRoles.Superuser, Password = superuserPassword,
        Pooling = false, Timeout = 15, CommandTimeout = 600,
    }.ConnectionString;

    /// <summary>
    /// Restores the repository that <paramref name="liveNodeContainer"/> (a Patroni node's container name or id)
    /// archives into, to <paramref name="target"/>, and returns once the copy is promoted and answers.
    /// </summary>
    public static async Task<SideRestore> StartAsync(
        string liveNodeContainer, RestoreTarget target, TimeSpan timeout, IProgress<SideRestoreProgress>? progress = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(liveNodeContainer);
        ArgumentNullException.ThrowIfNull(target);
        var live = await LiveNode.InspectAsync(liveNodeContainer, cancellationToken);
        var name = $"ishchat-side-restore-{Guid.NewGuid():N}"[..32];
        var environment = live.Environment
            .Where(e => e.Key.StartsWith("ISHCHAT_", StringComparison.Ordinal) || e.Key.StartsWith("PATRONI_", StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Value);
        // Its own name: pgBackRest's node certificate is made for it, and it lists no other node to reach.
        environment["PATRONI_NAME"] = name;
        environment["ISHCHAT_BACKUP_NODES"] = name;
        foreach (var (variable, value) in BackupEnvironment.PointInTimeRestore(target, archive: false))
        {
            environment[variable] = value.Literal!;
        }

        if (!environment.TryGetValue("ISHCHAT_BACKUP_REPO_TYPE", out var repoType) || repoType is "" or "none")
        {
            throw new InvalidOperationException($"{liveNodeContainer} archives into no backup repository (ISHCHAT_BACKUP_REPO_TYPE is not set).");
        }

        var superuserPassword = environment.GetValueOrDefault("PATRONI_SUPERUSER_PASSWORD")
            ?? throw new InvalidOperationException($"{liveNodeContainer} has no PATRONI_SUPERUSER_PASSWORD: is it a Patroni node?");
        var stopwatch = Stopwatch.StartNew();
        logger?.LogInformation("Side restore {Name} of {Node}'s repository to {Target}", name, liveNodeContainer, target);
        // Values travel in the docker client's environment (-e NAME without a value), never on its command line.
        (await DockerCli.ExecuteAsync(
            ["run", "-d", "--name", name, "--hostname", name, "--network", live.Network, "--network-alias", name, "--label", $"{Label}=true",
             "--publish", "127.0.0.1::5432", "--entrypoint", "/usr/bin/tini",
             .. environment.Keys.SelectMany(k => new[] { "-e", k }),
             live.Image, "--", "/usr/local/bin/ishchat-side-restore"],
            environment, logger: logger, cancellationToken: cancellationToken)).EnsureSucceeded();
        try
        {
            await FollowFileRestoreAsync(name, stopwatch, progress, cancellationToken);
            var port = await PublishedPortAsync(name, cancellationToken);
            await WaitUntilPromotedAsync(name, new SideRestore(name, superuserPassword, port, TimeSpan.Zero), stopwatch, timeout, progress, cancellationToken);
            logger?.LogInformation("Side restore {Name} ready in {Seconds:F1} s", name, stopwatch.Elapsed.TotalSeconds);
            return new SideRestore(name, superuserPassword, port, stopwatch.Elapsed);
        }
        catch
        {
            await RemoveAsync(name);
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await RemoveAsync(ContainerName);

    private static async Task RemoveAsync(string name) =>
        await DockerCli.ExecuteAsync(["rm", "-f", "-v", name], cancellationToken: CancellationToken.None);

    /// <summary>pgBackRest's per-file lines, until the script says the files are in place (or the container ends).</summary>
    private static async Task FollowFileRestoreAsync(string name, Stopwatch stopwatch, IProgress<SideRestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var files = 0;
        var bytes = 0L;
        double? percent = null;
        var lastReport = TimeSpan.Zero;
        await foreach (var line in DockerCli.StreamAsync(["logs", "--follow", name], cancellationToken))
        {
            if (line.Contains(FilesRestoredMarker, StringComparison.Ordinal))
            {
                progress?.Report(new SideRestoreProgress(SideRestoreProgress.RestoringFiles, files, bytes, 100, stopwatch.Elapsed));
                return;
            }

            if (SideRestoreProgress.ParseRestoredFile(line) is { } file)
            {
                files++;
                bytes += file.Bytes;
                percent = file.Percent ?? percent;
                // Every file would flood a log: a report a second is enough to see it move.
                if (stopwatch.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
                {
                    lastReport = stopwatch.Elapsed;
                    progress?.Report(new SideRestoreProgress(SideRestoreProgress.RestoringFiles, files, bytes, percent, stopwatch.Elapsed));
                }
            }
        }

        // The log ended without the marker: the restore script failed, and its last lines say why.
        throw new InvalidOperationException($"The side restore {name} failed while restoring files:{Environment.NewLine}{await LastLogLinesAsync(name)}");
    }

    private static async Task<int> PublishedPortAsync(string name, CancellationToken cancellationToken)
    {
        // "127.0.0.1:49153"
        var mapping = (await DockerCli.RunAsync(["port", name, "5432/tcp"], cancellationToken)).Split('\n')[0].Trim();
        return int.Parse(mapping[(mapping.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilPromotedAsync(
        string name, SideRestore restore, Stopwatch stopwatch, TimeSpan timeout, IProgress<SideRestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(restore.ConnectionString());
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
                if (await command.ExecuteScalarAsync(cancellationToken) is false)
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // Not accepting connections until it is consistent.
            }

            if (await DockerCli.IsConfirmedDeadAsync(name, cancellationToken))
            {
                var log = await LastLogLinesAsync(name);
                var hint = log.Contains("before configured recovery target was reached", StringComparison.Ordinal)
                    ? $"{Environment.NewLine}The archive does not reach the target yet: WAL written after it is not archived (run `pgbackrest check` on the leader, or wait up to archive_timeout), or the target lies in the future."
                    : "";
                throw new InvalidOperationException($"The side restore {name} stopped while replaying WAL:{Environment.NewLine}{log}{hint}");
            }

            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"The side restore {name} was not promoted within {timeout.TotalSeconds:F0} s:{Environment.NewLine}{await LastLogLinesAsync(name)}");
            }

            if (stopwatch.Elapsed - lastReport >= TimeSpan.FromSeconds(2))
            {
                lastReport = stopwatch.Elapsed;
                progress?.Report(new SideRestoreProgress(SideRestoreProgress.ReplayingWal, 0, 0, null, stopwatch.Elapsed));
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static async Task<string> LastLogLinesAsync(string name)
    {
        var result = await DockerCli.ExecuteAsync(["logs", "--tail", "40", name], cancellationToken: CancellationToken.None);
        return string.Join(Environment.NewLine, result.Output);
    }

    /// <summary>What the side restore takes from a live node's container: image, network and environment.</summary>
    private sealed record LiveNode(string Image, string Network, IReadOnlyDictionary<string, string> Environment)
    {
        public static async Task<LiveNode> InspectAsync(string container, CancellationToken cancellationToken)
        {
            var result = await DockerCli.ExecuteAsync(["inspect", "--format", "{{json .Config.Image}}\t{{json .Config.Env}}", container], cancellationToken: cancellationToken);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"No container '{container}' to take the repository settings from: {result.Text}");
            }

            var parts = result.Text.Split('\t', 2);
            var image = JsonSerializer.Deserialize<string>(parts[0])!;
            var environment = JsonSerializer.Deserialize<string[]>(parts[1])!
                .Select(e => e.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
            var networks = await DockerCli.NetworksOfAsync(container, cancellationToken);
            // The backup store and the node share the cluster's network; a node on several takes the first.
            var network = networks.Count > 0 ? networks[0] : throw new InvalidOperationException($"{container} is on no network.");
            return new LiveNode(image, network, environment);
        }
    }
}
