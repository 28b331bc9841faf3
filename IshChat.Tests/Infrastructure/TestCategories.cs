namespace IshChat.Tests.Infrastructure;

/// <summary>
/// Trait values for <c>[Trait("Category", …)]</c>, named by what a test needs, so subsets run with
/// <c>--filter Category=Unit</c> (nothing), <c>Category=Docker</c> (an engine, no cluster), <c>Category=Integration</c>
/// (the whole AppHost) or <c>Category=Failover</c> (a cluster with faults injected).
/// </summary>
public static class TestCategories
{
    public const string Name = "Category";

    /// <summary>No Docker, no network: pure logic and the AppHost's model. Seconds.</summary>
    public const string Unit = "Unit";

    /// <summary>A Docker engine: one throwaway container from a cluster image (e.g. promtool), no cluster.</summary>
    public const string Docker = "Docker";

    /// <summary>The whole AppHost, started once and shared: real servers in containers.</summary>
    public const string Integration = "Integration";

    /// <summary>Real servers with injected faults (a Testcontainers cluster, or the AppHost's).</summary>
    public const string Failover = "Failover";

    /// <summary>A Testcontainers cluster with the backup store: backups, WAL archiving, point-in-time restores.</summary>
    public const string Backup = "Backup";

    /// <summary>The whole AppHost on volumes of its own, stopped and started again: data, identity and passwords survive.</summary>
    public const string Restart = "Restart";

    /// <summary>
    /// A benchmark run through the test runner because it needs a test's fixture (bench/chaos.sh): skipped unless its
    /// script asks for it, so a whole-suite run never spends an hour on it.
    /// </summary>
    public const string Benchmark = "Benchmark";
}
