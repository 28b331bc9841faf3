using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Backup;

/// <summary>
/// Proves the backups restore: makes a named restore point on the live leader while counting every table's rows per
/// instance, then restores the newest backup plus the archived WAL up to that point into a throwaway container of the
/// Patroni image (plain PostgreSQL, never archiving, removed afterwards) and checks that it reaches a consistent
/// state, stops exactly at the restore point, passes pg_amcheck and holds the same counts. Shared by the AppHost's
/// schedule and command, the Backup tests and bench/backup.sh's drill step.
/// </summary>
public sealed partial class RestoreDrill(RestoreDrillSettings settings, ILogger logger)
{
    private const string DrillLabel = "io.ishchat.restore-drill";

    // Every table of the database except the catalogs, rows per instance where it has an instance_id, through
    // query_to_xml so that one statement counts tables it learns about as it runs. As the superuser: row-level
    // security does not hide rows from it.
    private const string RowCountsSql = """
        SELECT t.name || ' ' || coalesce(x.instance, '?') || '|' || x.n
        FROM (SELECT c.oid::regclass::text AS name,
                     EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'instance_id' AND NOT a.attisdropped) AS per_instance
              FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg\_%') t,
             LATERAL xmltable('/table/row' PASSING query_to_xml(format(CASE WHEN t.per_instance
                 THEN 'SELECT instance_id::text AS i, count(*) AS n FROM %s GROUP BY 1'
                 ELSE 'SELECT ''-'' AS i, count(*) AS n FROM %s' END, t.name), false, false, '')
                 COLUMNS instance text PATH 'i', n bigint PATH 'n') x
        ORDER BY 1
        """;

    // SHARE blocks every writer of the counted tables until the transaction ends, so nothing commits between the
    // counts and the restore point: the restored copy must hold exactly these counts.
    private const string LockTablesSql = """
        DO $$ DECLARE tables text; BEGIN
          SELECT string_agg(c.oid::regclass::text, ', ') INTO tables
          FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg\_%';
          IF tables IS NOT NULL THEN EXECUTE 'LOCK TABLE ' || tables || ' IN SHARE MODE'; END IF;
        END $$
        """;

    private const string RestorePointMarker = "restore-point|";

    /// <summary>Makes the target and restores it: the whole drill. Never throws for a failed check; the result says why.</summary>
    public async Task<RestoreDrillResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        RestoreDrillTarget target;
        try
        {
            target = await MarkTargetAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or DockerCommandException)
        {
            return Finish(new RestoreDrillResult(settings.Stanza, DateTimeOffset.UtcNow, stopwatch.Elapsed, $"could not make the drill's target on the leader: {ex.Message}"));
        }

        return await RestoreAndVerifyAsync(target, stopwatch, cancellationToken);
    }

    /// <summary>
    /// On the live leader, in one transaction: freezes the tables' writers (SHARE locks), counts rows per instance,
    /// makes restore point <c>drill-&lt;UTC time&gt;</c>; then waits until the WAL holding it is archived.
    /// </summary>
    public async Task<RestoreDrillTarget> MarkTargetAsync(CancellationToken cancellationToken = default)
    {
        var name = $"drill-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        logger.LogInformation("Restore drill: counting rows and making restore point {Name} on the leader", name);
        var lockTimeout = (int)settings.LockTimeout.TotalMilliseconds;
        var output = await RunOnLeaderAsync(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", settings.Database,
             "-c", $"SET LOCAL lock_timeout = {lockTimeout.ToString(CultureInfo.InvariantCulture)}",
             "-c", LockTablesSql,
             "-c", RowCountsSql,
             "-c", $"SELECT '{RestorePointMarker}' || pg_create_restore_point('{name}') || '|' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"],
            cancellationToken);
        var marker = output.LastOrDefault(l => l.StartsWith(RestorePointMarker, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"psql did not report the restore point:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
        var parts = marker[RestorePointMarker.Length..].Split('|');
        var target = new RestoreDrillTarget(name, parts[0], DateTimeOffset.Parse(parts[1], CultureInfo.InvariantCulture), ParseCounts(output.Where(l => l != marker)));

        // check switches to a new segment and waits until it is archived: the restore point is then in the archive.
        await RunOnLeaderAsync(["pgbackrest", $"--stanza={settings.Stanza}", "check"], cancellationToken);
        logger.LogInformation("Restore drill: restore point {Name} at {Lsn} archived; {Rows} rows in {Count} table/instance pairs",
            name, target.Lsn, target.RowCounts.Values.Sum(), target.RowCounts.Count);
        return target;
    }

    /// <summary>Restores <paramref name="target"/> into a throwaway container and checks it; the container is always removed.</summary>
    public Task<RestoreDrillResult> RestoreAndVerifyAsync(RestoreDrillTarget target, CancellationToken cancellationToken = default) =>
        RestoreAndVerifyAsync(target, Stopwatch.StartNew(), cancellationToken);

    private async Task<RestoreDrillResult> RestoreAndVerifyAsync(RestoreDrillTarget target, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        var container = $"ishchat-drill-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        RestoreDrillResult Failed(string failure) => new(settings.Stanza, DateTimeOffset.UtcNow, stopwatch.Elapsed, failure, target);
        try
        {
            var run = await DockerCli.ExecuteAsync(
                environment: settings.RepositoryEnvironment, arguments: ["run", "-d", "--name", container, "--label", $"{DrillLabel}=true", "--network", settings.Network,
                 .. settings.RepositoryEnvironment.Keys.SelectMany(k => new[] { "-e", k }),
                 "--entrypoint", "sleep", settings.Image, "infinity"],
                logger: logger, cancellationToken: deadline.Token);
            if (!run.Succeeded)
            {
                return Finish(Failed($"the throwaway container did not start: {run.Text}"));
            }

            logger.LogInformation("Restore drill: restoring into {Container} on {Network}", container, settings.Network);
            var drill = await DockerCli.ExecuteAsync(
                ["exec", container, "ishchat-restore-drill", target.RestorePoint],
                line => logger.LogInformation("{Line}", line), settings.Timeout, logger, deadline.Token);
            if (!drill.Succeeded)
            {
                var reason = drill.Output.LastOrDefault(l => l.Contains("FAILED:", StringComparison.Ordinal)) ?? $"exit {drill.ExitCode}";
                return Finish(Failed($"the restore did not pass its checks: {reason}"));
            }

            if (drill.Output.Select(l => PromotedLine().Match(l)).LastOrDefault(m => m.Success) is not { } promoted)
            {
                return Finish(Failed("the drill script did not report where it recovered to"));
            }

            var recoveredLsn = promoted.Groups["lsn"].Value;
            var restoreDuration = TimeSpan.FromSeconds(double.Parse(promoted.Groups["seconds"].Value, CultureInfo.InvariantCulture));
            var gap = Math.Max(0, ParseLsn(target.Lsn) - ParseLsn(recoveredLsn));

            var restored = await DockerCli.ExecuteAsync(
                ["exec", container, "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-d", settings.Database, "-c", RowCountsSql],
                logger: logger, cancellationToken: deadline.Token);
            if (!restored.Succeeded)
            {
                return Finish(Failed($"counting the restored rows failed: {restored.Text}"));
            }

            var differences = Differences(target.RowCounts, ParseCounts(restored.Output));
            if (differences.Count > 0)
            {
                return Finish(Failed($"row counts differ from the live cluster's at the restore point: {string.Join("; ", differences.Take(10))}"));
            }

            return Finish(new RestoreDrillResult(settings.Stanza, DateTimeOffset.UtcNow, stopwatch.Elapsed, null, target, recoveredLsn, restoreDuration, gap));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Finish(Failed($"it did not finish within {settings.Timeout}"));
        }
        catch (DockerCommandException ex)
        {
            return Finish(Failed(ex.Message));
        }
        finally
        {
            // Not with the drill's token: a timed-out drill's container must go too.
            await DockerCli.ExecuteAsync(["rm", "-f", "-v", container], logger: logger, cancellationToken: CancellationToken.None);
        }
    }

    /// <summary>"table instance" keys whose counts differ, each with both sides.</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyDictionary<string, long> live, IReadOnlyDictionary<string, long> restored) =>
        [.. live.Keys.Union(restored.Keys).Order(StringComparer.Ordinal)
            .Where(k => live.GetValueOrDefault(k, -1) != restored.GetValueOrDefault(k, -1))
            .Select(k => $"{k}: live {Describe(live, k)}, restored {Describe(restored, k)}")];

    /// <summary>An LSN such as <c>0/3000060</c> as a byte position.</summary>
    public static long ParseLsn(string lsn)
    {
        var parts = lsn.Split('/');
        return parts.Length == 2
            ? (long.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture) << 32) + long.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : throw new FormatException($"'{lsn}' is not an LSN (high/low in hex).");
    }

    private static string Describe(IReadOnlyDictionary<string, long> counts, string key) =>
        counts.TryGetValue(key, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "no rows";

    private static Dictionary<string, long> ParseCounts(IEnumerable<string> lines) =>
        lines.Select(l => l.Split('|'))
            .Where(p => p.Length == 2 && long.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private async Task<IReadOnlyList<string>> RunOnLeaderAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        var result = await DockerCli.ExecuteAsync(["exec", settings.LeaderContainer, .. command], timeout: TimeSpan.FromMinutes(5), logger: logger, cancellationToken: cancellationToken);
        return result.Succeeded
            ? result.Output
            : throw new InvalidOperationException($"{command[0]} on the leader failed (exit {result.ExitCode}): {result.Text}");
    }

    private RestoreDrillResult Finish(RestoreDrillResult result)
    {
        if (result.Succeeded)
        {
            logger.LogInformation("{Result}", result);
        }
        else
        {
            logger.LogError("{Result}", result);
        }

        return result;
    }

    [GeneratedRegex(@"promoted at (?<lsn>[0-9A-F]+/[0-9A-F]+) after (?<seconds>[0-9.]+) s")]
    private static partial Regex PromotedLine();
}
