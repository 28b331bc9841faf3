namespace IshChat.AppHost.Hosting.Patroni;

/// <summary>Names of the dashboard properties the cluster monitor keeps current.</summary>
public static class PatroniProperties
{
    public const string Role = "patroni.role";
    public const string State = "patroni.state";
    public const string LagBytes = "patroni.lag_bytes";
    public const string Timeline = "patroni.timeline";
    public const string PendingRestart = "patroni.pending_restart";
    public const string Leader = "patroni.leader";
    public const string StreamingReplicas = "patroni.streaming_replicas";
    public const string SynchronousMode = "patroni.synchronous_mode";
}
