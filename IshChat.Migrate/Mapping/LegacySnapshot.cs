using System.Globalization;
using System.Runtime.InteropServices;
using IshChat.Migrate.Legacy;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// The first pass over a legacy file, up to a high-water mark: which rows are valid, every
/// reject with its reason, each valid message's seq (its place in its session by created_at,
/// then legacy id), and the checksums verify compares. Without <see cref="KeepsMessages"/> it keeps
/// no message bodies, so 10 M messages fit in a few hundred MB; with it (import, when the file
/// fits in memory) it keeps every valid message as written, so the file is read once.
/// </summary>
public sealed class LegacySnapshot
{
    public required Guid InstanceId { get; init; }

    public required HighWater HighWater { get; init; }

    public Dictionary<string, DeviceRow> Devices { get; } = [];

    public Dictionary<long, SessionRow> Sessions { get; } = [];

    public Dictionary<long, SessionStats> SessionStats { get; } = [];

    public List<Reject> DeviceRejects { get; } = [];

    public List<Reject> SessionRejects { get; } = [];

    public Dictionary<long, Reject> MessageRejects { get; } = [];

    /// <summary>Valid messages' legacy ids, ascending, and the seq of each at the same index.</summary>
    public long[] MessageIds { get; private set; } = [];

    public long[] MessageSeqs { get; private set; } = [];

    public Checksum DeviceChecksum { get; } = new();

    public Checksum SessionChecksum { get; } = new();

    public Checksum MessageChecksum { get; } = new();

    public long MessagesRead { get; private set; }

    public long DerivedClientIds { get; private set; }

    public long ValidMessages => MessageIds.Length;

    public long SeqOf(long legacyMessageId)
    {
        var i = Array.BinarySearch(MessageIds, legacyMessageId);
        return i >= 0 ? MessageSeqs[i] : 0;
    }

    public DeviceState Device(string legacyId) => Devices.ContainsKey(legacyId) ? DeviceState.Valid
        : rejectedDevices.Contains(legacyId) ? DeviceState.Rejected : DeviceState.Missing;

    public SessionState Session(long legacyId) => Sessions.ContainsKey(legacyId) ? SessionState.Valid
        : rejectedSessions.Contains(legacyId) ? SessionState.Rejected : SessionState.Missing;

    private readonly HashSet<string> rejectedDevices = [];
    private readonly HashSet<long> rejectedSessions = [];

    /// <summary>Whether to keep each valid message's sender, time, client id and body (<see cref="Kept"/>).</summary>
    public bool KeepsMessages { get; init; }

    /// <summary>Where pass 1 puts the bodies it keeps; null unless <see cref="KeepsMessages"/>.</summary>
    public BodyStore? KeptBodies { get; private init; }

    /// <summary>The valid messages, at the same index as <see cref="MessageIds"/>; null unless <see cref="KeepsMessages"/>.</summary>
    public KeptMessages? Kept { get; private set; }

    /// <summary>
    /// Whether import may keep every valid message of <paramref name="path"/> in memory: about the file's size (bodies
    /// as the file's bytes, the rest fixed-size), twice over for headroom, within a quarter of what this process may use.
    /// </summary>
    public static bool MessagesFitInMemory(string path) => new FileInfo(path).Length * 2 <= GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>Whether to sum the checksums: only verify compares them, and hashing every message costs import a tenth of its pass.</summary>
    public bool WithChecksums { get; init; }

    public static LegacySnapshot Read(LegacyDatabase legacy, Guid instanceId, HighWater highWater, Action<long>? messageProgress = null, bool withChecksums = false,
        bool keepMessages = false)
    {
        var snapshot = new LegacySnapshot
        {
            InstanceId = instanceId, HighWater = highWater, WithChecksums = withChecksums, KeepsMessages = keepMessages,
            KeptBodies = keepMessages ? new BodyStore() : null,
        };
        foreach (var raw in legacy.Devices(highWater.Devices))
        {
            var (row, code) = RowRules.Device(raw);
            if (row is not null && snapshot.Devices.ContainsKey(row.LegacyId))
            {
                (row, code) = (null, RejectCodes.DuplicateId);
            }

            if (row is null)
            {
                var reject = new Reject(LegacySchema.Devices, (long)raw[0]!, LooseValues.Id(raw[1]) ?? "", code!, RowHash.Describe(raw), RowHash.Of(raw));
                snapshot.DeviceRejects.Add(reject);
                if (code != RejectCodes.DuplicateId && reject.LegacyId.Length > 0)
                {
                    snapshot.rejectedDevices.Add(reject.LegacyId);
                }

                continue;
            }

            snapshot.Devices.Add(row.LegacyId, row);
            if (withChecksums)
            {
                snapshot.DeviceChecksum.Add(Checksum.Device(row));
            }
        }

        foreach (var raw in legacy.Sessions(highWater.Sessions))
        {
            var (row, code) = RowRules.Session(raw, snapshot.Device);
            if (row is null)
            {
                var id = (long)raw[0]!;
                snapshot.SessionRejects.Add(new Reject(LegacySchema.Sessions, id, id.ToString(CultureInfo.InvariantCulture), code!, RowHash.Describe(raw), RowHash.Of(raw)));
                snapshot.rejectedSessions.Add(id);
                continue;
            }

            snapshot.Sessions.Add(row.LegacyId, row);
            if (withChecksums)
            {
                snapshot.SessionChecksum.Add(Checksum.Session(row));
            }
        }

        snapshot.ReadMessages(legacy, messageProgress);
        return snapshot;
    }

    private void ReadMessages(LegacyDatabase legacy, Action<long>? progress)
    {
        // The rules run on several threads over ranges of ids; what depends on order (the first of
        // two messages with one client id wins) is decided here, in id order.
        var parts = MessageScan.Run(legacy, this, read => progress?.Invoke(MessagesRead = read));
        // Sized once: at 10 M messages, growing lists by doubling copied gigabytes.
        var capacity = parts.Sum(p => p.Valid.Count);
        var ids = new List<long>(capacity);
        var sessions = new List<long>(capacity);
        var times = new List<long>(capacity);
        var claimed = new HashSet<(long Session, Guid Client)>(capacity);
        var clients = new List<Guid>(KeepsMessages ? capacity : 0);
        var senders = new List<string>(KeepsMessages ? capacity : 0);
        var bodies = new List<BodyRef>(KeepsMessages ? capacity : 0);
        var duplicates = new List<long>();
        foreach (var part in parts)
        {
            foreach (var reject in part.Rejects)
            {
                MessageRejects.Add(reject.RowId, reject);
            }

            foreach (var m in part.Valid)
            {
                if (!claimed.Add((m.Session, m.Client)))
                {
                    duplicates.Add(m.Id);
                    continue;
                }

                DerivedClientIds += m.Derived ? 1 : 0;
                ids.Add(m.Id);
                sessions.Add(m.Session);
                times.Add(m.Ticks);
                if (KeepsMessages)
                {
                    clients.Add(m.Client);
                    senders.Add(m.Sender!);
                    bodies.Add(m.Body);
                }

                if (WithChecksums)
                {
                    MessageChecksum.Add(m.Hash);
                }

                var created = new DateTimeOffset(m.Ticks, TimeSpan.Zero);
                ref var stats = ref CollectionsMarshal.GetValueRefOrAddDefault(SessionStats, m.Session, out _);
                stats = new SessionStats(stats.Messages + 1, stats.LastMessageAt > created ? stats.LastMessageAt : created);
            }

            part.Valid.Clear();
            part.Valid.Capacity = 0;
        }

        // Duplicates are few: their rows are read again for the report.
        foreach (var id in duplicates)
        {
            foreach (var raw in legacy.Messages(id - 1, id))
            {
                MessageRejects.Add(id, new Reject(LegacySchema.Messages, id, id.ToString(CultureInfo.InvariantCulture), RejectCodes.DuplicateClientId, RowHash.Describe(raw), RowHash.Of(raw)));
            }
        }

        MessagesRead = MessageRejects.Count + ids.Count;
        progress?.Invoke(MessagesRead);
        MessageIds = [.. ids];
        if (KeepsMessages)
        {
            Kept = new KeptMessages([.. sessions], [.. senders], [.. clients], [.. times], [.. bodies], KeptBodies!);
        }

        MessageSeqs = new long[ids.Count];
        // Legacy order: by created_at within the session, the legacy id breaking ties (rowids grow with inserts).
        // Sorted as keys rather than through a comparison delegate: a tenth of pass 1 at 10 M messages.
        var order = new SeqOrder[ids.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = new SeqOrder(sessions[i], times[i], ids[i], i);
        }

        Array.Sort(order);
        long seq = 0;
        InSessionOrder = new int[order.Length];
        for (var k = 0; k < order.Length; k++)
        {
            seq = k > 0 && order[k - 1].Session == order[k].Session ? seq + 1 : 1;
            MessageSeqs[order[k].Index] = seq;
            InSessionOrder[k] = order[k].Index;
            if (seq == 1)
            {
                sessionSpans[order[k].Session] = (k, 0);
            }

            CollectionsMarshal.GetValueRefOrNullRef(sessionSpans, order[k].Session).Count++;
        }
    }

    /// <summary>Indexes into <see cref="MessageIds"/> ordered by legacy session, then seq: each session's valid messages side by side.</summary>
    public int[] InSessionOrder { get; private set; } = [];

    private readonly Dictionary<long, (int Start, int Count)> sessionSpans = [];

    /// <summary>The indexes into <see cref="MessageIds"/> of one session's valid messages, in seq order.</summary>
    public ReadOnlySpan<int> MessagesOf(long legacySessionId) =>
        sessionSpans.TryGetValue(legacySessionId, out var span) ? InSessionOrder.AsSpan(span.Start, span.Count) : [];

    /// <summary>A message's place in its session: created_at, then legacy id.</summary>
    private readonly record struct SeqOrder(long Session, long Ticks, long Id, int Index) : IComparable<SeqOrder>
    {
        public int CompareTo(SeqOrder other) =>
            Session != other.Session ? Session.CompareTo(other.Session) : Ticks != other.Ticks ? Ticks.CompareTo(other.Ticks) : Id.CompareTo(other.Id);
    }

    public IEnumerable<Reject> AllRejects => DeviceRejects.Concat(SessionRejects).Concat(MessageRejects.Values);
}

public readonly record struct SessionStats(long Messages, DateTimeOffset LastMessageAt);

/// <summary>Valid messages as pass 1 read them, one array per column: legacy session id, sender's legacy id, client id, time (UTC ticks),
/// body (UTF-8, in <paramref name="BodyStore"/>).</summary>
public sealed record KeptMessages(long[] Sessions, string[] Senders, Guid[] Clients, long[] Ticks, BodyRef[] Bodies, BodyStore BodyStore);
