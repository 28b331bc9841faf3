namespace IshChat.Tests.Infrastructure;

/// <summary>
/// Each Docker-needing test's own time-out (<c>[Fact(Timeout = …)]</c>, milliseconds), generous on purpose: they catch
/// a hang early with the test's name instead of CI's global hang dump, and never judge performance (benchmarks do).
/// Cluster start-up is the fixtures', not the tests', and has its own limit.
/// </summary>
public static class TestTimeouts
{
    /// <summary>Builds one image when missing (a cold build downloads packages) and runs a container.</summary>
    public const int Docker = 10 * 60 * 1000;

    /// <summary>Requests and queries against the running AppHost, including a failover or two.</summary>
    public const int Integration = 5 * 60 * 1000;

    /// <summary>Writes, the whole AppHost stopped and started again on its volumes, reads: a warm start takes one to two minutes.</summary>
    public const int Restart = 12 * 60 * 1000;

    /// <summary>A fault, the failover it causes, the repair and the wait until the cluster is healthy again.</summary>
    public const int Failover = 8 * 60 * 1000;

    /// <summary>A backup, writes, perhaps a switchover, and a restore into a new cluster until it leads.</summary>
    public const int Backup = 8 * 60 * 1000;
}
