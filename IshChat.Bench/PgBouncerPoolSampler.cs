using System.Globalization;

namespace IshChat.Bench;

/// <summary>
/// Reads PgBouncer's SHOW DATABASES once a second (the numbers pgbouncer_exporter turns into
/// pgbouncer_databases_current_connections / _max_connections) and reports, per capped entry, the peak and mean share
/// of its server connections in use: above 80 % for 30 s is what the PgBouncerPoolUtilisationHigh alert fires on.
/// </summary>
public sealed class PgBouncerPoolSampler(TestClusterNode pgBouncer, string statsPassword) : SamplingWindow
{
    private readonly Dictionary<string, List<double>> utilisation = [];

    protected override string Report(int requests)
    {
        return "PgBouncer server connections in use, of each entry's cap (peak / mean; the alert fires above 80 % for 30 s): "
            + string.Join(", ", utilisation.OrderBy(u => u.Key).Select(u => string.Create(CultureInfo.InvariantCulture,
                $"{u.Key} {u.Value.Max():P0} / {u.Value.Average():P0}{(u.Value.Count(v => v > 0.8) * 1.0 >= 30 ? " ALERT" : "")}")));
    }

    protected override async Task SampleAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stop))
        {
            foreach (var row in await PgBouncerConsole.ShowAsync(pgBouncer, statsPassword, "SHOW DATABASES", stop))
            {
                var cap = row.Number("max_connections");
                if (cap > 0 && row["name"].StartsWith(ClusterRoles.Database, StringComparison.Ordinal))
                {
                    (utilisation.TryGetValue(row["name"], out var samples) ? samples : utilisation[row["name"]] = []).Add((double)row.Number("current_connections") / cap);
                }
            }
        }
    }
}
