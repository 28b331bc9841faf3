namespace IshChat.Cluster.Patroni;

/// <summary>What adding or removing a replica did: the node, where an added one was cloned from, each step's duration.</summary>
public sealed record ReplicaChangeReport(string Node, string Change, string? ClonedFrom, IReadOnlyList<ProcedureStep> Steps, TimeSpan Total)
{
    public override string ToString() =>
        $"{Change} {Node}{(ClonedFrom is null ? "" : $" (cloned from {ClonedFrom})")}: " +
        $"{string.Join("; ", Steps.Select(s => $"{s.Description} {s.Duration.TotalSeconds:F1} s"))}; total {Total.TotalSeconds:F1} s";
}

/// <summary>A replica change that would break a promise (remove the leader, go below the configured replicas): nothing was done.</summary>
public sealed class ReplicaChangeRefusedException(string message) : InvalidOperationException(message);
