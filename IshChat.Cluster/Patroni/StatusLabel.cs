using System.Globalization;

namespace IshChat.Cluster.Patroni;

/// <summary>How a <see cref="StatusLabel"/> should be read at a glance: fine, needs a look, or broken.</summary>
public enum StatusTone
{
    Good,
    Warning,
    Bad,
}

/// <summary>
/// A node's or the cluster's state in a few words, as a person scanning the dashboard's resource list reads it
/// ("Leader", "Replica · lag 0 B", "Sync standby · lag 16 KiB", "Stopped"), with the tone it deserves.
/// </summary>
public sealed record StatusLabel(string Text, StatusTone Tone)
{
    /// <summary>
    /// <paramref name="member"/> as Patroni last reported it; null when Patroni does not list it (its agent is down
    /// or has not joined yet). A replica lagging more than <paramref name="maximumLagBytes"/> (the failover limit)
    /// would not be promoted: it reads as a warning.
    /// </summary>
    public static StatusLabel Of(PatroniMember? member, long maximumLagBytes)
    {
        if (member is null)
        {
            return new StatusLabel("Not in cluster", StatusTone.Bad);
        }

        var pendingRestart = member.PendingRestart ? " · restart pending" : "";
        if (member.State is "stopped" or "crashed" or "stopping" or "restart failed" or "start failed")
        {
            return new StatusLabel(Capitalized(member.State) + pendingRestart, StatusTone.Bad);
        }

        var role = member.Role switch
        {
            "leader" => "Leader",
            "standby_leader" => "Standby leader",
            "sync_standby" => "Sync standby",
            "quorum_standby" => "Quorum standby",
            _ => "Replica",
        };

        if (member.IsLeader)
        {
            return member.State is "running" or null
                ? new StatusLabel(role + pendingRestart, pendingRestart.Length > 0 ? StatusTone.Warning : StatusTone.Good)
                : new StatusLabel($"{role} · {member.State}", StatusTone.Warning);
        }

        if (!member.IsStreamingReplica)
        {
            return new StatusLabel($"{role} · {member.State ?? "unknown"}{pendingRestart}", StatusTone.Warning);
        }

        var lag = member.LagBytes;
        var tone = lag is null || lag > maximumLagBytes || pendingRestart.Length > 0 ? StatusTone.Warning : StatusTone.Good;
        return new StatusLabel($"{role} · lag {(lag is { } bytes ? Bytes(bytes) : "unknown")}{pendingRestart}", tone);
    }

    /// <summary>The cluster: its leader and how many replicas stream, by the one rule for healthy (<see cref="ClusterState.Evaluate"/>).</summary>
    public static StatusLabel Of(ClusterState state, int expectedNodes, PatroniSettings settings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(settings);
        var health = state.Evaluate(expectedNodes, settings);
        if (state.Leader is not { } leader)
        {
            return new StatusLabel(health.Summary, StatusTone.Bad);
        }

        var replicas = expectedNodes - 1;
        var streaming = state.StreamingReplicas == replicas ? $"{replicas} {Plural(replicas, "replica")}" : $"{state.StreamingReplicas} of {replicas} replicas";
        var synchronous = state.SynchronousStandbys > 0 ? $" ({state.SynchronousStandbys} sync)" : "";
        var pendingRestart = state.Members.Count(m => m.PendingRestart) is > 0 and var pending ? $" · {pending} restart pending" : "";
        return new StatusLabel($"Leader {leader.Name} · {streaming}{synchronous}{pendingRestart}",
            health.IsHealthy && pendingRestart.Length == 0 ? StatusTone.Good : StatusTone.Warning);
    }

    /// <summary>Bytes the way people read them: 0 B, 512 B, 16 KiB, 3.2 MiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        var format = unit == 0 || value >= 10 ? "0" : "0.#";
        return $"{value.ToString(format, CultureInfo.InvariantCulture)} {units[unit]}";
    }

    private static string Plural(int count, string noun) => count == 1 ? noun : noun + "s";

    private static string Capitalized(string text) => string.Concat(text[..1].ToUpperInvariant(), text[1..]);
}
