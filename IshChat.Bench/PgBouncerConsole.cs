using System.Globalization;
using IshChat.Cluster.Docker;

namespace IshChat.Bench;

/// <summary>PgBouncer's admin console as its stats-only user, for the samplers.</summary>
internal static class PgBouncerConsole
{
    /// <summary>The rows of a SHOW command, each a map from column name to text.</summary>
    public static async Task<IReadOnlyList<Dictionary<string, string>>> ShowAsync(TestClusterNode pgBouncer, string statsPassword, string command, CancellationToken cancellationToken)
    {
        // The console speaks only the simple query protocol, which Npgsql does not: psql inside the container.
        var table = await DockerCli.RunAsync(
            ["exec", "-e", $"PGPASSWORD={statsPassword}", pgBouncer.ContainerId, "psql", "-h", "127.0.0.1", "-p", ClusterPorts.PgBouncer.ToString(CultureInfo.InvariantCulture),
             "-U", ClusterRoles.PgBouncerStats, "-d", "pgbouncer", "-A", "-F", "|", "-P", "footer=off", "-c", command], cancellationToken);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines[0].Split('|');
        return [.. lines.Skip(1).Select(line => header.Zip(line.Split('|')).ToDictionary(p => p.First, p => p.Second))];
    }

    public static int Number(this Dictionary<string, string> row, string column) =>
        row.TryGetValue(column, out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
