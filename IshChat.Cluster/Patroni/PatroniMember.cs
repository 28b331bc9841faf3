using System.Text.Json;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Patroni;

/// <summary>A member as Patroni's <c>GET /cluster</c> reports it.</summary>
public sealed record PatroniMember
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>leader, replica, sync_standby, quorum_standby or standby_leader.</summary>
    [JsonPropertyName("role")] public required string Role { get; init; }

    /// <summary>running, streaming, starting, stopped, crashed, …</summary>
    [JsonPropertyName("state")] public string? State { get; init; }

    [JsonPropertyName("timeline")] public long? Timeline { get; init; }

    /// <summary>Replication lag in bytes; Patroni reports "unknown" when it can't tell.</summary>
    [JsonPropertyName("lag")] public JsonElement? Lag { get; init; }

    /// <summary>A changed setting waits for a PostgreSQL restart on this member (Patroni's "pending restart").</summary>
    [JsonPropertyName("pending_restart")] public bool PendingRestart { get; init; }

    public bool IsLeader => Role is "leader" or "standby_leader";

    /// <summary>A replica receiving WAL from the leader right now (sync and quorum standbys included).</summary>
    public bool IsStreamingReplica => !IsLeader && State == "streaming";

    /// <summary>Named by Patroni as a synchronous standby (<c>synchronous_mode: on</c>) or a quorum member (<c>quorum</c>).</summary>
    public bool IsSynchronousStandby => Role is "sync_standby" or "quorum_standby";

    public long? LagBytes => Lag is { ValueKind: JsonValueKind.Number } lag ? lag.GetInt64() : null;
}
