namespace IshChat.Cluster.Backup;

/// <summary>Where a restore drill runs and what it restores from.</summary>
/// <param name="LeaderContainer">The live cluster's leader container: counts its rows and makes the restore point there.</param>
/// <param name="Network">The cluster's Docker network: the throwaway container reaches the store by its DNS name on it.</param>
/// <param name="Image">The Patroni image reference (it holds pgBackRest, PostgreSQL, pg_amcheck and the drill script).</param>
/// <param name="RepositoryEnvironment">
/// <see cref="BackupEnvironment.Standalone"/> with its secrets resolved; handed to <c>docker run</c> through the docker
/// client's environment, never its arguments.
/// </param>
/// <param name="Timeout">The whole drill, restore and checks included; a hung one fails instead of blocking the next.</param>
public sealed record RestoreDrillSettings(
    string Stanza,
    string LeaderContainer,
    string Network,
    string Image,
    IReadOnlyDictionary<string, string> RepositoryEnvironment,
    TimeSpan Timeout)
{
    /// <summary>The database whose rows are compared (every database is checked by pg_amcheck).</summary>
    public string Database { get; init; } = ClusterRoles.Database;

    /// <summary>
    /// How long the drill may wait for the SHARE locks that freeze the counted tables while it counts and makes the
    /// restore point: writers queue behind a waiting lock, so it gives up (and the drill fails) rather than wait long.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
