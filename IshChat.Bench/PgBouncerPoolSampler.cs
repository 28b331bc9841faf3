using System.Globalization;
using IshChat.Cluster.Docker;

namespace IshChat.Bench;

/// <summary>
/// Reads PgBouncer's SHOW DATABASES once a second (the numbers pgbouncer_exporter turns into
/// pgbouncer_databases_current_connections / _max_connections) and reports, per capped entry, the peak and mean share
/// of its server connections in use: above 80 % for 30 s is what the PgBouncerPoolUtilisationHigh alert fires on.
/// </summary>
public sealed class PgBouncerPoolSampler(TestClusterNode pgBouncer, string statsPassword) : IMeasurementWindow, IDisposable
{
    private readonly Dictionary<string, List<double>> utilisation = [];
    private readonly CancellationTokenSource stop = new();
    private Task? sampling;

    public void Start() => sampling = Task.Run(SampleAsync);

    public void Dispose() => stop.Dispose();

    public async Task<string> StopAsync(int requests)
    {
        await stop.CancelAsync();
        if (sampling is not null)
        {
            await sampling;
        }

        return "PgBouncer server connections in use, of each entry's cap (peak / mean; the alert fires above 80 % for 30 s): "
            + string.Join(", ", utilisation.OrderBy(u => u.Key).Select(u => string.Create(CultureInfo.InvariantCulture,
                $"{u.Key} {u.Value.Max():P0} / {u.Value.Average():P0}{(u.Value.Count(v => v > 0.8) * 1.0 >= 30 ? " ALERT" : "")}")));
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                // The admin console speaks only the simple query protocol, which Npgsql does not: psql inside the container.
                var table = await DockerCli.RunAsync(
                    ["exec", "-e", $"PGPASSWORD={statsPassword}", pgBouncer.ContainerId, "psql", "-h", "127.0.0.1", "-p", ClusterPorts.PgBouncer.ToString(CultureInfo.InvariantCulture),
                     "-U", ClusterRoles.PgBouncerStats, "-d", "pgbouncer", "-A", "-F", "|", "-P", "footer=off", "-c", "SHOW DATABASES"], stop.Token);
                var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var header = lines[0].Split('|').ToList();
                var (name, max, current) = (header.IndexOf("name"), header.IndexOf("max_connections"), header.IndexOf("current_connections"));
                foreach (var row in lines.Skip(1).Select(l => l.Split('|')))
                {
                    var cap = int.Parse(row[max], CultureInfo.InvariantCulture);
                    if (cap > 0 && row[name].StartsWith(ClusterRoles.Database, StringComparison.Ordinal))
                    {
                        var used = int.Parse(row[current], CultureInfo.InvariantCulture);
                        (utilisation.TryGetValue(row[name], out var samples) ? samples : utilisation[row[name]] = []).Add((double)used / cap);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The window ended.
        }
    }
}
