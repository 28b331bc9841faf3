namespace IshChat.Cluster.Patroni;

/// <summary>Whether the cluster is healthy, and a sentence saying what was seen.</summary>
public sealed record ClusterHealth(bool IsHealthy, string Summary);
