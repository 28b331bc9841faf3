using System.Text.Json.Serialization;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// The cluster as Patroni's <c>GET /cluster</c> reports it, and the one rule for "healthy" that the AppHost's
/// health check, the dashboard, the failover tests and the benchmarks all use.
/// </summary>
public sealed record ClusterState
{
    [JsonPropertyName("members")] public IReadOnlyList<PatroniMember> Members { get; init; } = [];

    /// <summary>The one leader, or null when there is none or (briefly, mid-election) more than one.</summary>
    public PatroniMember? Leader => Members.Count(m => m.IsLeader) == 1 ? Members.Single(m => m.IsLeader) : null;

    public int StreamingReplicas => Members.Count(m => m.IsStreamingReplica);

    public int SynchronousStandbys => Members.Count(m => m.IsSynchronousStandby && m.IsStreamingReplica);

    /// <summary>
    /// Healthy: exactly one leader, every other of the <paramref name="expectedNodes"/> streaming from it, and in
    /// synchronous or quorum mode as many named synchronous standbys as the settings ask for (or as there are replicas):
    /// only those may be promoted without losing a commit, so a cluster that has not named them yet is not ready for a fault.
    /// </summary>
    public ClusterHealth Evaluate(int expectedNodes, PatroniSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (Leader is not { } leader)
        {
            return new ClusterHealth(false, !Members.Any(m => m.IsLeader) ? "No leader" : "More than one leader");
        }

        var replicas = expectedNodes - 1;
        if (StreamingReplicas < replicas)
        {
            return new ClusterHealth(false, $"Leader {leader.Name}, {StreamingReplicas} of {replicas} replicas streaming");
        }

        var required = settings.SynchronousMode == SynchronousMode.Off ? 0 : Math.Min(settings.SynchronousNodeCount, replicas);
        if (SynchronousStandbys < required)
        {
            return new ClusterHealth(false, $"Leader {leader.Name}, {SynchronousStandbys} of {required} synchronous standbys named");
        }

        var synchronous = required > 0 ? $", {SynchronousStandbys} synchronous" : "";
        return new ClusterHealth(true, $"Leader {leader.Name}, {StreamingReplicas} streaming replicas{synchronous}");
    }
}
