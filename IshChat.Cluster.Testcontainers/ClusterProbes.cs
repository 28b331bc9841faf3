using System.Diagnostics;
using Npgsql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>What a client sees: can it write through PgBouncer, and how long until it can again.</summary>
public static class ClusterProbes
{
    public static async Task<bool> TryWriteAsync(PatroniTestCluster cluster, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(cluster.PgBouncerConnectionString());
            await connection.OpenAsync(cancellationToken);
            // txid_current() assigns a transaction id: it fails on a server in recovery, as any write would.
            await using var command = new NpgsqlCommand("SELECT txid_current()", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    /// <summary>Time from now until a write through PgBouncer is acknowledged.</summary>
    public static async Task<TimeSpan> TimeUntilWritableAsync(PatroniTestCluster cluster, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            if (await TryWriteAsync(cluster, cancellationToken))
            {
                return stopwatch.Elapsed;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"No write succeeded within {timeout.TotalSeconds:F0} s.");
    }
}
