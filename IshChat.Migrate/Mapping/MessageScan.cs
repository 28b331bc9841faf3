using System.Globalization;
using System.Text;
using IshChat.Migrate.Legacy;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// Pass 1 over the messages, split into contiguous ranges of ids read in parallel, each with its
/// own SQLite connection (connections are not shared between threads): the stateless rules, and
/// for valid rows only what numbering, counters and checksums need. Parts come back in id order.
/// </summary>
public static class MessageScan
{
    /// <summary>Below this many ids one thread is as quick; low enough that the tests' files take the parallel path.</summary>
    private const long ParallelFrom = 10_000;

    public static IReadOnlyList<ScanPart> Run(LegacyDatabase legacy, LegacySnapshot snapshot, Action<long> progress)
    {
        var top = snapshot.HighWater.Messages == long.MaxValue ? legacy.ReadHighWater().Messages : snapshot.HighWater.Messages;
        var parts = top < ParallelFrom ? 1 : Math.Max(2, Environment.ProcessorCount);
        var size = (top + parts - 1) / Math.Max(parts, 1);
        var read = 0L;
        var results = new ScanPart[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, k =>
        {
            var after = k * size;
            // The last part also takes ids above the mark read now (HighWater.All: everything there is).
            var upTo = k == parts - 1 ? snapshot.HighWater.Messages : Math.Min((k + 1) * size, top);
            using var own = k == 0 ? null : LegacyDatabase.Open(legacy.Path);
            // Room for every id of the range at once: growing by doubling copied each part's list several times over.
            var capacity = (int)Math.Clamp(Math.Min(upTo, top) - after, 0, Array.MaxLength);
            results[k] = Scan(own ?? legacy, snapshot, after, upTo, n => progress(Interlocked.Add(ref read, n)), capacity, snapshot.KeptBodies?.NewWriter());
        });
        return results;
    }

    private static ScanPart Scan(LegacyDatabase legacy, LegacySnapshot snapshot, long after, long upTo, Action<long> progress, int capacity, BodyStore.Writer? bodies)
    {
        var part = new ScanPart(capacity);
        var count = 0;
        foreach (var raw in legacy.Messages(after, upTo))
        {
            if (++count % 50_000 == 0)
            {
                progress(50_000);
            }

            var (row, code) = RowRules.Message(raw, snapshot.InstanceId, snapshot.Session, snapshot.Device);
            if (row is null)
            {
                var id = (long)raw[0]!;
                part.Rejects.Add(new Reject(LegacySchema.Messages, id, id.ToString(CultureInfo.InvariantCulture), code!, RowHash.Describe(raw), RowHash.Of(raw)));
                continue;
            }

            part.Valid.Add(new ScannedMessage(row.LegacyId, row.SessionLegacyId, row.ClientMessageId, row.CreatedAt.UtcTicks, row.ClientIdDerived,
                snapshot.WithChecksums ? Checksum.Hash(Checksum.Message(row)) : 0,
                // The device's own key string, not this row's copy: one per device, not one per message.
                bodies is null ? null : snapshot.Devices[row.SenderLegacyId].LegacyId,
                bodies?.Add(raw[4] as byte[] ?? Encoding.UTF8.GetBytes(row.Body)) ?? default));
        }

        progress(count % 50_000);
        return part;
    }
}

public sealed class ScanPart(int capacity)
{
    public List<ScannedMessage> Valid { get; } = new(capacity);

    public List<Reject> Rejects { get; } = [];
}

/// <summary>What pass 1 keeps of a valid message: its sender and body (the file's UTF-8 bytes, in the snapshot's
/// <see cref="BodyStore"/>) only when the snapshot keeps messages.</summary>
public readonly record struct ScannedMessage(long Id, long Session, Guid Client, long Ticks, bool Derived, long Hash, string? Sender, BodyRef Body);
