using System.Diagnostics;
using System.Globalization;
using System.Text;
using IshChat.Cluster.Images;
using Microsoft.Extensions.Logging;

namespace IshChat.Bench.Failover;

/// <summary>
/// Replica add and remove timed on a generated chat database (bench/replicas.sh, docs/operations.md): a leader, its
/// replicas and one spare slot; the database filled with <c>bench/chat-data.sql</c> (the generator bench/backup.sh uses);
/// then, under the Jepsen-style writers, <see cref="ReplicaMembership"/> adds a replica (clone from a replica until it
/// streams within the lag limit and HAProxy routes reads to it) and removes it again (drain, stop, slot dropped).
/// </summary>
internal static class ReplicaBench
{
    public static async Task RunAsync(string[] args, ILogger logger)
    {
        var rows = BenchArguments.Number(args, "--rows", 2_500_000L, 0L);
        var instances = BenchArguments.Number(args, "--instances", 20, 1);
        var replicas = BenchArguments.Number(args, "--base-replicas", 1, 1);
        var repeat = BenchArguments.Number(args, "--repeat", 1, 1);

        Console.WriteLine($"Load before: {LoadAverage()}");
        Console.WriteLine($"Starting the test cluster (leader + {replicas} replica(s) + 1 spare slot)…");
        await using var cluster = await PatroniTestCluster.StartAsync(new TestClusterOptions { Replicas = replicas, SpareReplicas = 1 }, logger, CancellationToken.None);
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(3));

        var clock = Stopwatch.StartNew();
        var size = await FillAsync(cluster, rows, instances);
        Console.WriteLine($"Generated {rows:N0} messages over {instances} instances: database ishchat {size} in {clock.Elapsed.TotalSeconds:F0} s");
        await cluster.WaitForHealthyAsync(TimeSpan.FromMinutes(30));

        var membership = cluster.Replicas;
        var checker = new WriteChecker(cluster);
        await checker.PrepareAsync();
        var results = new List<(ReplicaChangeReport Added, ReplicaChangeReport Removed)>();
        var writes = await checker.RunAsync(async ct =>
        {
            for (var round = 1; round <= repeat; round++)
            {
                var added = await membership.AddAsync(ct);
                Console.WriteLine($"  #{round} {added}");
                var removed = await membership.RemoveAsync(cancellationToken: ct);
                Console.WriteLine($"  #{round} {removed}");
                results.Add((added, removed));
            }
        });

        Console.WriteLine($"Writes meanwhile: {writes}");
        Console.WriteLine($"Load after: {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"| database | round | add: clone until streaming (s) | add: routed (s) | add total (s) | cloned from | remove: drain (s) | remove: leave Patroni (s) | remove: slot dropped (s) | remove total (s) |");
        Console.WriteLine($"|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (round, (added, removed)) in results.Select((x, k) => (k + 1, x)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {round} | {added.Steps[0].Duration.TotalSeconds:F1} | {added.Steps[1].Duration.TotalSeconds:F1} | {added.Total.TotalSeconds:F1} | {added.ClonedFrom} | " +
                $"{removed.Steps[0].Duration.TotalSeconds:F1} | {removed.Steps[1].Duration.TotalSeconds:F1} | {removed.Steps[2].Duration.TotalSeconds:F1} | {removed.Total.TotalSeconds:F1} |"));
        }
    }

    /// <summary>The chat schema (the migration service's scripts, as their owner), then bench/chat-data.sql as the superuser.</summary>
    private static async Task<string> FillAsync(PatroniTestCluster cluster, long rows, int instances)
    {
        var leader = await cluster.LeaderAsync();
        var root = RepositoryLayout.Current.Root;
        var migrations = string.Concat(Directory.GetFiles(Path.Combine(root, "IshChat.MigrationService", "Migrations"), "*.sql").Order(StringComparer.Ordinal)
            .Select(f => File.ReadAllText(f) + "\n"));
        await leader.Container.CopyAsync(Encoding.UTF8.GetBytes(migrations), "/tmp/migrations.sql");
        await leader.Container.CopyAsync(await File.ReadAllBytesAsync(Path.Combine(root, "bench", "chat-data.sql")), "/tmp/chat-data.sql");
        var perSession = (rows + instances * 100L - 1) / (instances * 100L);
        await PsqlAsync(leader, ["-c", $"SET ROLE {ClusterRoles.Migrator}", "-c", "CREATE SCHEMA IF NOT EXISTS chat", "-f", "/tmp/migrations.sql"]);
        await PsqlAsync(leader, ["-v", $"instances={instances}", "-v", $"per_session={perSession}", "-f", "/tmp/chat-data.sql"]);
        return await PsqlAsync(leader, ["-c", $"SELECT pg_size_pretty(pg_database_size('{ClusterRoles.Database}'))"]);
    }

    private static async Task<string> PsqlAsync(TestClusterNode node, IEnumerable<string> arguments)
    {
        var result = await node.Container.ExecAsync(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", ClusterRoles.Database, .. arguments]);
        return result.ExitCode == 0 ? result.Stdout.Trim() : throw new InvalidOperationException($"psql on {node} failed: {result.Stderr.Trim()}");
    }

    private static string LoadAverage() => BenchArguments.LoadAverage();
}
