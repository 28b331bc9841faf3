using System.Globalization;
using System.Text.Json;

namespace IshChat.Cluster.Regions;

/// <summary>
/// Patroni's <c>standby_cluster</c>: the other region's primary this cluster replicates from, as its standby leader
/// dials it. The one description of that link: rendered into a node's <c>bootstrap.dcs</c> by the image (a standby
/// region's first start: its leader clones from the other region instead of running initdb) and written into a running
/// cluster's dynamic configuration by <see cref="RegionFence"/> (an old primary region demoted). Removing it from the
/// dynamic configuration is the promotion (<see cref="RegionPromotion"/>): Patroni 4.0.7 has no <c>promote-cluster</c>.
/// </summary>
/// <param name="Host">
/// The other region's read-write router (its HAProxy's name on the inter-region network): it always reaches that
/// region's primary, whichever node leads there. Its certificate must carry this name (<c>sslmode=verify-full</c>
/// with the one CA both regions share, docs/security.md); each node's certificate names every HAProxy of its region.
/// </param>
/// <param name="Port">The router's read-write port.</param>
public sealed record StandbyClusterSettings(string Host, int Port = ClusterPorts.HAProxyReadWrite)
{
    /// <summary>
    /// A permanent physical slot on the other region's primary that the standby leader streams through (Patroni's
    /// <c>slots:</c> there must declare it), so that region keeps the WAL a lagging standby region still needs. Null:
    /// no slot, the standby region relies on <c>wal_keep_size</c> (256 MB) and re-clones when it falls further behind.
    /// </summary>
    public string? PrimarySlotName { get; init; }

    /// <summary>The <c>standby_cluster</c> value of Patroni's dynamic configuration (PATCH /config, the etcd key).</summary>
    public IReadOnlyDictionary<string, object> ToDynamicConfiguration()
    {
        var section = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["host"] = Host,
            ["port"] = Port,
            // The standby leader clones over the replication connection (TLS, the replication role's credentials);
            // the backup repository, when there is one, belongs to the other region's stanza, not this one.
            ["create_replica_methods"] = new[] { "basebackup" },
        };
        if (PrimarySlotName is { } slot)
        {
            section["primary_slot_name"] = slot;
        }

        return section;
    }

    private static readonly string[] WhereToFollow = ["host", "port", "restore_command"];

    /// <summary>
    /// Whether a dynamic configuration (GET /config) makes its cluster a standby cluster, by Patroni's own rule: a
    /// <c>standby_cluster</c> section with a host, port or restore_command (Patroni fills the section with empty defaults).
    /// </summary>
    public static bool IsStandbyCluster(JsonElement dynamicConfiguration) =>
        dynamicConfiguration.ValueKind == JsonValueKind.Object
        && dynamicConfiguration.TryGetProperty("standby_cluster", out var section) && section.ValueKind == JsonValueKind.Object
        && WhereToFollow.Any(key => section.TryGetProperty(key, out var value)
            && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.False) && !(value.ValueKind == JsonValueKind.String && value.GetString() == "")
            && !(value.ValueKind == JsonValueKind.Number && value.GetDouble() == 0));

    /// <summary>What a node's environment adds so the image renders this section into <c>bootstrap.dcs</c> (containers/patroni/README.md).</summary>
    public IReadOnlyDictionary<string, EnvironmentValue> Environment()
    {
        var environment = new Dictionary<string, EnvironmentValue>
        {
            ["ISHCHAT_STANDBY_CLUSTER_HOST"] = Host,
            ["ISHCHAT_STANDBY_CLUSTER_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
        };
        if (PrimarySlotName is { } slot)
        {
            environment["ISHCHAT_STANDBY_CLUSTER_PRIMARY_SLOT_NAME"] = slot;
        }

        return environment;
    }
}
