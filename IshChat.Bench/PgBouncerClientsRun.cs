using System.Globalization;
using System.Text.RegularExpressions;
using IshChat.Cluster.Docker;

namespace IshChat.Bench;

/// <summary>
/// Many direct PgBouncer clients (--pgbouncer-clients N): pgbench, a client nobody here wrote, from a container on the
/// cluster's network, N connections held open for the whole run, select-only (-S, scale 1) as the app role through
/// PgBouncer's read-write entry. Reports tps, failed transactions, per-transaction p50/p99 (pgbench's transaction log)
/// and PgBouncer's client and server connections sampled each second: N clients multiplexed onto few servers.
/// The pgbench tables are created on the leader by the superuser and dropped at the end.
/// </summary>
internal static partial class PgBouncerClientsRun
{
    public static async Task<string> RunAsync(PatroniTestCluster cluster, BenchOptions options)
    {
        var image = ClusterImages.Patroni.Reference(RepositoryLayout.Current);
        var leader = (await cluster.LeaderAsync()).Name;
        var network = cluster.Network.Name;
        var clients = options.PgBouncerClients;
        Task<DockerResult> Client(string role, string program, string arguments, TimeSpan timeout) => DockerCli.ExecuteAsync(
            ["run", "--rm", "--network", network, "-e", "PGPASSWORD", "--entrypoint", "sh", image, "-c", $"{program} {arguments}"],
            new Dictionary<string, string> { ["PGPASSWORD"] = cluster.Secret(ClusterRoles.PasswordOf(role)) }, timeout: timeout);

        (await Client(ClusterRoles.Superuser, "pgbench", $"-i -q -s 1 -h {leader} -U {ClusterRoles.Superuser} {ClusterRoles.Database}", TimeSpan.FromMinutes(3))).EnsureSucceeded();
        try
        {
            (await Client(ClusterRoles.Superuser, "psql", $"-h {leader} -U {ClusterRoles.Superuser} -d {ClusterRoles.Database} -qc " +
                $"'GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers TO {ClusterRoles.App}'", TimeSpan.FromMinutes(1))).EnsureSucceeded();

            using var pools = new ConnectionSampler(apiPort: 0, (cluster.PgBouncer, cluster.Secret(ClusterSecret.PgBouncerStatsPassword)));
            pools.Start();
            // -j 2: one thread per core. The transaction log (-l, one line per transaction: its latency in µs third) is
            // printed after the summary, for the percentiles pgbench itself doesn't give.
            var run = await Client(ClusterRoles.App, "cd /tmp && pgbench",
                $"-n -S -M prepared -c {clients} -j 2 -T {options.Duration.TotalSeconds:F0} -l --log-prefix=clients " +
                $"-h pgbouncer -p {ClusterPorts.PgBouncer} -U {ClusterRoles.App} {PgBouncerDatabases.ReadWrite}; status=$?; cat clients.* 2>/dev/null; exit $status",
                options.Duration + TimeSpan.FromMinutes(5));
            var connections = await pools.StopAsync(0);

            var output = run.Output;
            var latencies = output.Select(l => TransactionLine().Match(l)).Where(m => m.Success)
                .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 1000).Order().ToArray();
            var summary = string.Join(' ', output.Where(l => !TransactionLine().IsMatch(l)));
            var (p50, p99) = (BenchResults.Percentile(latencies, 0.5), BenchResults.Percentile(latencies, 0.99));
            string Field(Regex pattern) => pattern.Match(summary) is { Success: true } m ? m.Groups[1].Value : "?";
            var complaint = run.ExitCode == 0 ? "" : "\npgbench said: " + string.Join(' ', output.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Take(3));
            return string.Create(CultureInfo.InvariantCulture,
                $"PgBouncer, {clients} direct clients (pgbench -S -M prepared -c {clients}, {options.Duration.TotalSeconds:F0} s, from a container on the cluster's network): exit {run.ExitCode}, tps {Field(Tps())}, transactions {latencies.Length}, failed {Field(Failed())}, latency p50 {p50:F1} / p99 {p99:F1} ms, initial connection time {Field(ConnectionTime())} ms\n{connections}{complaint}");
        }
        finally
        {
            await Client(ClusterRoles.Superuser, "psql", $"-h {leader} -U {ClusterRoles.Superuser} -d {ClusterRoles.Database} -qc " +
                "'DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history'", TimeSpan.FromMinutes(1));
        }
    }

    // client_id transaction_no latency_us script_no epoch epoch_us
    [GeneratedRegex(@"^\d+ \d+ (\d+) \d+ \d+ \d+")]
    private static partial Regex TransactionLine();

    [GeneratedRegex(@"tps = ([0-9.]+)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex Failed();

    [GeneratedRegex(@"initial connection time = ([0-9.]+) ms")]
    private static partial Regex ConnectionTime();
}
