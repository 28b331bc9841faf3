using System.Text.Json;

namespace IshChat.Cluster.Patroni;

/// <summary>
/// The keys of Patroni's dynamic configuration that <see cref="PatroniSettings"/> owns, and how far a running cluster's
/// copy has drifted from them. Patroni writes its <c>bootstrap.dcs</c> section to etcd only when it initialises a cluster;
/// on a cluster that starts again from its volumes, etcd's copy wins over whatever the settings say now. So a cluster
/// bootstrapped asynchronously keeps committing asynchronously after the configured mode became quorum, and nothing
/// shows it. <see cref="PatroniRestClient.ReconcileDynamicConfigurationAsync"/> writes the settings back.
/// </summary>
public static class DynamicConfiguration
{
    /// <summary>The settings as Patroni's dynamic configuration spells them (the same values the image renders into <c>bootstrap.dcs</c>).</summary>
    public static IReadOnlyDictionary<string, object> Of(PatroniSettings settings) => new Dictionary<string, object>(StringComparer.Ordinal)
    {
        ["ttl"] = settings.TtlSeconds,
        ["loop_wait"] = settings.LoopWaitSeconds,
        ["retry_timeout"] = settings.RetryTimeoutSeconds,
        ["primary_start_timeout"] = settings.PrimaryStartTimeoutSeconds,
        ["maximum_lag_on_failover"] = settings.MaximumLagOnFailoverBytes,
        ["synchronous_mode"] = settings.SynchronousMode switch
        {
            SynchronousMode.Off => false,
            SynchronousMode.On => true,
            _ => "quorum",
        },
        ["synchronous_node_count"] = settings.SynchronousNodeCount,
        ["failsafe_mode"] = settings.FailsafeMode,
    };

    /// <summary>
    /// Each owned key whose value in <paramref name="current"/> (GET /config) differs from <paramref name="settings"/>, with
    /// the value it has now (null when absent) and the value it should have.
    /// </summary>
    public static IReadOnlyList<ConfigurationDrift> Drift(JsonElement current, PatroniSettings settings) =>
        Of(settings)
            .Select(pair => (pair.Key, Desired: pair.Value, Current: current.ValueKind == JsonValueKind.Object && current.TryGetProperty(pair.Key, out var value) ? value : (JsonElement?)null))
            .Where(key => key.Current is not { } value || !Matches(value, key.Desired))
            .Select(key => new ConfigurationDrift(key.Key, key.Current?.GetRawText(), key.Desired))
            .ToList();

    /// <summary>
    /// Patroni reads its configuration leniently (<c>"20"</c> and <c>20</c>, <c>"on"</c> and <c>true</c> mean the same),
    /// so an equal meaning is no drift: only a different value is written back.
    /// </summary>
    private static bool Matches(JsonElement current, object desired) => desired switch
    {
        bool flag => AsBoolean(current) == flag,
        string text => current.ValueKind == JsonValueKind.String && string.Equals(current.GetString(), text, StringComparison.OrdinalIgnoreCase),
        int number => AsInteger(current) == number,
        long number => AsInteger(current) == number,
        _ => false,
    };

    private static bool? AsBoolean(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => value.GetString()?.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" or "1" => true,
            "false" or "off" or "no" or "0" => false,
            _ => null,
        },
        _ => null,
    };

    private static long? AsInteger(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var number) => number,
        JsonValueKind.String when long.TryParse(value.GetString(), out var number) => number,
        _ => null,
    };
}

/// <summary>One key of Patroni's dynamic configuration that differs from the settings: its value now (JSON, null when absent) and the one it gets.</summary>
public sealed record ConfigurationDrift(string Key, string? Current, object Desired)
{
    public override string ToString() =>
        $"{Key} {Current ?? "(unset)"} → {JsonSerializer.Serialize(Desired)}";
}
