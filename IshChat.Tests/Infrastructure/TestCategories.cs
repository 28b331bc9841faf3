namespace IshChat.Tests.Infrastructure;

/// <summary>Trait values for <c>[Trait("Category", …)]</c>, so subsets run with <c>--filter Category=Unit</c>.</summary>
public static class TestCategories
{
    public const string Name = "Category";

    /// <summary>No Docker: pure logic and the AppHost's model.</summary>
    public const string Unit = "Unit";

    /// <summary>Real servers in containers.</summary>
    public const string Integration = "Integration";

    /// <summary>Real servers with injected faults.</summary>
    public const string Failover = "Failover";
}
