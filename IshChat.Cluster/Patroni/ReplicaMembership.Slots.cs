using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Patroni;

/// <summary>The replication slots of <see cref="ReplicaMembership"/>: a removed member's dropped, an absent one's after a start.</summary>
public sealed partial class ReplicaMembership
{
    /// <summary>Patroni's slot name for a member: lower case, anything but [a-z0-9_] as '_' (<c>pg-4</c> → <c>pg_4</c>).</summary>
    public static string SlotNameOf(string node) => SlotUnsafe().Replace(node.ToLowerInvariant(), "_");

    /// <summary>
    /// Converges a cluster that starts with fewer nodes than it last ran (a lower <c>WithReplicas(n)</c>, a spare added
    /// then not started again): once the absent members have left Patroni, their slots are dropped as "Remove replica"
    /// drops one, instead of holding WAL for <c>member_slots_ttl</c>. The configured nodes' slots are never touched (one
    /// that is down is coming back). Returns the slots dropped.
    /// </summary>
    public async Task<IReadOnlyList<string>> DropSlotsOfAbsentNodesAsync(CancellationToken cancellationToken = default)
    {
        var running = await RunningNodesAsync(cancellationToken);
        var keep = slots.Nodes.Take(slots.MinimumReplicas + 1).Concat(running).Select(SlotNameOf).ToHashSet(StringComparer.Ordinal);
        var leader = await slots.ContainerIdAsync((await ReadAsync(cancellationToken)).Leader?.Name ?? "", cancellationToken)
            ?? throw new InvalidOperationException("The cluster has no leader right now.");
        var absent = (await PsqlAsync(leader, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical'", cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => !keep.Contains(s)).ToList();
        if (absent.Count > 0)
        {
            logger.LogInformation("Slots of nodes not running: {Slots}; dropped once Patroni forgets their members", string.Join(", ", absent));
            await WaitForClusterAsync(s => s.Members.All(m => !absent.Contains(SlotNameOf(m.Name))), "the absent nodes gone from Patroni's members", cancellationToken);
            await DropSlotsAsync(absent, cancellationToken);
        }

        return absent;
    }

    /// <summary>
    /// Patroni keeps a departed member's slot for <c>member_slots_ttl</c> (30 min) in case it comes back; a removed one
    /// won't, so the retention drops to 0 until the slots are gone from every running node, then goes back to what it was.
    /// </summary>
    private async Task DropSlotsAsync(IReadOnlyCollection<string> slotNames, CancellationToken cancellationToken)
    {
        var leaderUrl = await LeaderUrlAsync(cancellationToken);
        var retention = await rest.GetMemberSlotsTtlAsync(leaderUrl, cancellationToken);
        await rest.SetMemberSlotsTtlAsync(leaderUrl, 0, cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var slot in slotNames)
            {
                while (await NodesHoldingSlotAsync(slot, cancellationToken) is { Count: > 0 } holding)
                {
                    if (clock.Elapsed > StepTimeout)
                    {
                        throw new TimeoutException($"Slot {slot} is still on {string.Join(", ", holding)} after {StepTimeout.TotalSeconds:F0} s.");
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                }
            }
        }
        finally
        {
            await rest.SetMemberSlotsTtlAsync(leaderUrl, retention, CancellationToken.None);
        }
    }

    /// <summary>The running nodes that still have replication slot <paramref name="slot"/>.</summary>
    public async Task<IReadOnlyList<string>> NodesHoldingSlotAsync(string slot, CancellationToken cancellationToken = default)
    {
        var holding = new List<string>();
        foreach (var node in await RunningNodesAsync(cancellationToken))
        {
            var container = await slots.ContainerIdAsync(node, cancellationToken);
            if (container is not null && await PsqlAsync(container, $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{SlotNameOf(slot)}'", cancellationToken) != "0")
            {
                holding.Add(node);
            }
        }

        return holding;
    }

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex SlotUnsafe();
}
