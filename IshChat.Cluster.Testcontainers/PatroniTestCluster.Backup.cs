using System.Diagnostics;
using System.Security.Cryptography;
using DotNet.Testcontainers.Builders;
using IshChat.Cluster.Backup;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// The optional backup store (<see cref="TestClusterOptions.BackupStore"/>) and what tests do with it: take a full
/// backup on a node, check archiving, and make a new cluster from the repository at a point in time.
/// </summary>
public sealed partial class PatroniTestCluster
{
    private const string BackupStoreName = "backup-store";

    private readonly Lazy<IReadOnlyDictionary<BackupSecret, string>> backupSecrets = new(() =>
    {
        var authority = BackupCertificateAuthority.Create(TimeSpan.FromDays(1));
        return new Dictionary<BackupSecret, string>
        {
            // An Azure account key is base64 of random bytes.
            [BackupSecret.StoreKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
            // Hostile like every other test password: it ends up in pgbackrest.conf.
            [BackupSecret.CipherPassphrase] = NewPassword(),
            [BackupSecret.CertificateAuthorityCertificate] = authority.CertificatePem,
            [BackupSecret.CertificateAuthorityKey] = authority.PrivateKeyPem,
        };
    });

    /// <summary>The object store holding the repository, when <see cref="TestClusterOptions.BackupStore"/> is on.</summary>
    public TestClusterNode? BackupStore { get; private set; }

    /// <summary>pgBackRest's stanza: this cluster's name in the repository, also for clusters restored from it.</summary>
    public string Stanza => Options.Scope;

    private async Task StartBackupStoreAsync(RepositoryLayout layout, CancellationToken cancellationToken)
    {
        var environment = BackupEnvironment.Store(BackupStoreName).ToDictionary(e => e.Key, e => (EnvironmentValue)e.Value.Resolve(s => backupSecrets.Value[s]));
        // The image's own HEALTHCHECK turns healthy once the server answers and the container exists.
        BackupStore = await StartAsync(BackupStoreName, ClusterImages.BackupStore.Reference(layout), environment, [BackupPorts.Store],
            Wait.ForUnixContainer().UntilContainerIsHealthy(), cancellationToken);
    }

    private Dictionary<string, string> BackupEnvironmentOf(string node, IReadOnlyList<string> nodes) =>
        BackupEnvironment.PatroniNode(node, nodes, BackupRepository.LocalStore(BackupStoreName), Stanza)
            .ToDictionary(e => e.Key, e => e.Value.Resolve(s => backupSecrets.Value[s]));

    /// <summary>
    /// A full backup started on <paramref name="node"/> (pgBackRest copies from a streaming replica when there is one,
    /// and only asks the primary to start and stop the backup). Returns how long it took and pgBackRest's output.
    /// </summary>
    public async Task<(TimeSpan Duration, string Output)> BackupAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var output = await PgBackRestAsync(node, ["--type=full", "backup"], cancellationToken);
        logger.LogInformation("Full backup on {Node} in {Seconds:F1} s", node.Name, stopwatch.Elapsed.TotalSeconds);
        return (stopwatch.Elapsed, output);
    }

    /// <summary>
    /// <c>pgbackrest check</c> on <paramref name="node"/>: on the leader it switches to a new WAL segment and waits
    /// until that segment is in the archive, so everything committed before the call is archived when it returns.
    /// </summary>
    public Task<string> CheckArchiveAsync(TestClusterNode node, CancellationToken cancellationToken = default) =>
        PgBackRestAsync(node, ["check"], cancellationToken);

    /// <summary>The timeline history files (<c>00000002.history</c>, …) in the archive.</summary>
    public async Task<IReadOnlyList<string>> ArchivedTimelineHistoriesAsync(TestClusterNode node, CancellationToken cancellationToken = default)
    {
        // archive/<stanza> holds archive.info(.copy) and one folder per PostgreSQL version and system id ("17-1").
        var archiveIds = Lines(await PgBackRestAsync(node, ["repo-ls", $"archive/{Stanza}"], cancellationToken)).Where(l => !l.Contains('.', StringComparison.Ordinal));
        var histories = new List<string>();
        foreach (var id in archiveIds)
        {
            histories.AddRange(Lines(await PgBackRestAsync(node, ["repo-ls", $"archive/{Stanza}/{id}"], cancellationToken))
                .Where(f => f.EndsWith(".history", StringComparison.Ordinal)));
        }

        return histories;
    }

    /// <summary>
    /// Makes a NEW one-node Patroni cluster from the repository, recovered to <paramref name="target"/> (Patroni's
    /// custom bootstrap: restore, replay the archive to the target, promote), on this cluster's network and etcd under
    /// its own scope. It never archives into the repository (a side restore). Returns once it leads, with the time
    /// that took: the restore's measured duration.
    /// </summary>
    public async Task<(TestClusterNode Node, TimeSpan Duration)> RestoreToNewClusterAsync(RestoreTarget target, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (BackupStore is null)
        {
            throw new InvalidOperationException("This cluster has no backup store (TestClusterOptions.BackupStore).");
        }

        var name = $"restore-{Guid.NewGuid():N}"[..16];
        var environment = BackupEnvironmentOf(name, [name]);
        foreach (var (variable, value) in BackupEnvironment.PointInTimeRestore(target, archive: false))
        {
            environment[variable] = value.Resolve(s => backupSecrets.Value[s]);
        }

        var stopwatch = Stopwatch.StartNew();
        var node = await StartAsync(name, ClusterImages.Patroni.Reference(RepositoryLayout.Current),
            // Its own scope: the live cluster's keys in etcd stay untouched.
            ComponentEnvironment.PatroniNode(name, name, [.. Etcd.Select(e => e.Name)], Options.Patroni),
            [ClusterPorts.Postgres, ClusterPorts.PatroniRest],
            PatroniAlive, cancellationToken, environment,
            PatroniNodeCertificate(name));

        // /primary answers 200 once the restored node has promoted and leads its new cluster.
        var primary = new Uri(RestUrl(node), "primary");
        while (true)
        {
            try
            {
                using var response = await Https.GetAsync(primary, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (stopwatch.Elapsed > timeout)
            {
                var logs = await node.Container.GetLogsAsync(ct: cancellationToken);
                throw new TimeoutException($"{name} did not lead its restored cluster within {timeout.TotalSeconds:F0} s.{Environment.NewLine}{logs.Stdout[^Math.Min(4000, logs.Stdout.Length)..]}{logs.Stderr[^Math.Min(4000, logs.Stderr.Length)..]}");
            }

            await Task.Delay(250, cancellationToken);
        }

        logger.LogInformation("Restored {Target} into {Node} in {Seconds:F1} s", target, name, stopwatch.Elapsed.TotalSeconds);
        return (node, stopwatch.Elapsed);
    }

    /// <summary>
    /// A restore drill of this cluster's stanza (the same <see cref="RestoreDrill"/> the AppHost schedules): the leader
    /// makes the target, a throwaway Patroni container on this cluster's network restores and checks it.
    /// </summary>
    public async Task<RestoreDrill> RestoreDrillAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (BackupStore is null)
        {
            throw new InvalidOperationException("This cluster has no backup store (TestClusterOptions.BackupStore).");
        }

        var leader = await LeaderAsync(cancellationToken);
        var repository = BackupEnvironment.Standalone(BackupRepository.LocalStore(BackupStoreName), Stanza)
            .ToDictionary(e => e.Key, e => e.Value.Resolve(s => backupSecrets.Value[s]));
        return new RestoreDrill(
            new RestoreDrillSettings(Stanza, leader.ContainerId, Network.Name, ClusterImages.Patroni.Reference(RepositoryLayout.Current), repository, timeout),
            logger);
    }

    /// <summary>
    /// Takes the archived WAL segment <paramref name="walFile"/> (e.g. <c>000000010000000000000005</c>) out of the
    /// repository, kept aside in <paramref name="node"/>'s container; disposing the result puts it back byte for byte,
    /// so a test can prove a restore fails without it and leave the archive whole for the others.
    /// </summary>
    public async Task<IAsyncDisposable> WithholdArchivedSegmentAsync(TestClusterNode node, string walFile, CancellationToken cancellationToken = default)
    {
        var archiveIds = Lines(await PgBackRestAsync(node, ["repo-ls", $"archive/{Stanza}"], cancellationToken)).Where(l => !l.Contains('.', StringComparison.Ordinal));
        foreach (var id in archiveIds)
        {
            var folder = $"archive/{Stanza}/{id}/{walFile[..16]}";
            var name = Lines(await PgBackRestAsync(node, ["repo-ls", folder], cancellationToken))
                .FirstOrDefault(f => f.StartsWith(walFile + "-", StringComparison.Ordinal));
            if (name is null)
            {
                continue;
            }

            var path = $"{folder}/{name}";
            var aside = $"/tmp/withheld-{name}";
            // --raw: the stored bytes (compressed, encrypted) as they are, to be put back unchanged.
            await ShellAsync(node, $"pgbackrest --stanza={Stanza} repo-get --raw {path} > {aside}", cancellationToken);
            await PgBackRestAsync(node, ["repo-rm", path], cancellationToken);
            logger.LogInformation("Withheld {Path} from the repository", path);
            return new PutBack(() => ShellAsync(node, $"pgbackrest --stanza={Stanza} repo-put --raw {path} < {aside} && rm {aside}", CancellationToken.None));
        }

        throw new InvalidOperationException($"{walFile} is not in the archive of {Stanza}.");
    }

    private sealed class PutBack(Func<Task> putBack) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await putBack();
    }

    private static async Task ShellAsync(TestClusterNode node, string command, CancellationToken cancellationToken)
    {
        var result = await node.Container.ExecAsync(["bash", "-c", command], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} on {node.Name} failed (exit {result.ExitCode}): {result.Stderr}");
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary><c>pgbackrest --stanza=… <paramref name="arguments"/></c> on <paramref name="node"/>; its output, or an exception with it.</summary>
    public async Task<string> PgBackRestAsync(TestClusterNode node, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var result = await node.Container.ExecAsync(["pgbackrest", $"--stanza={Stanza}", .. arguments], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgbackrest {string.Join(' ', arguments)} on {node.Name} failed (exit {result.ExitCode}):{Environment.NewLine}{result.Stdout}{result.Stderr}");
        }

        return result.Stdout;
    }
}
