namespace IshChat.Cluster.Faults;

/// <summary>
/// The container a fault is done to: its runtime id, and for a partition the network it is cut from and the
/// DNS aliases it gets back when reconnected (without them its peers could no longer find it by name).
/// </summary>
public sealed record FaultTarget(string Name, string ContainerId, string? Network = null, IReadOnlyList<string>? Aliases = null)
{
    /// <summary>
    /// Cut a partitioned container off inside its network namespace (<see cref="NamespaceFirewall"/>) instead of taking
    /// it off its network: for containers whose orchestrator connects them back (the AppHost's).
    /// </summary>
    public bool CutOffInsideNamespace { get; init; }

    internal string RequireNetwork() =>
        Network ?? throw new InvalidOperationException($"Partitioning {Name} needs the network it is attached to.");
}
