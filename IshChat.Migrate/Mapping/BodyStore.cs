namespace IshChat.Migrate.Mapping;

/// <summary>
/// The bodies pass 1 keeps (import, read once), packed into a few large arrays instead of one array per message.
/// Why: at 10 M messages, 10 M long-lived arrays were what every full garbage collection walked and compacted, and
/// pass 1 took 19 times as long as at 1 M (docs/migration.md, "10 M messages"); a few hundred 16 MB slabs sit in
/// the large-object heap, are never moved, and hold no references to trace. Appending is not thread-safe: each
/// scanning thread fills its own <see cref="Writer"/>, and only taking a fresh slab is shared.
/// </summary>
public sealed class BodyStore
{
    /// <summary>16 MB: large enough that slabs are few, small enough that the last, part-filled one wastes little.</summary>
    private const int SlabSize = 16 << 20;

    private readonly List<byte[]> slabs = [];

    /// <summary>The bytes a reference points at.</summary>
    public ReadOnlyMemory<byte> this[BodyRef body] => new(slabs[body.Slab], body.Offset, body.Length);

    /// <summary>Appends bodies for one thread.</summary>
    public Writer NewWriter() => new(this);

    private (int Index, byte[] Slab) NewSlab(int atLeast)
    {
        var slab = new byte[Math.Max(SlabSize, atLeast)];
        lock (slabs)
        {
            slabs.Add(slab);
            return (slabs.Count - 1, slab);
        }
    }

    public sealed class Writer(BodyStore store)
    {
        private int index = -1;
        private byte[] slab = [];
        private int used;

        public BodyRef Add(ReadOnlySpan<byte> body)
        {
            if (slab.Length - used < body.Length)
            {
                (index, slab) = store.NewSlab(body.Length);
                used = 0;
            }

            body.CopyTo(slab.AsSpan(used));
            var reference = new BodyRef(index, used, body.Length);
            used += body.Length;
            return reference;
        }
    }
}

/// <summary>Where one body lies in a <see cref="BodyStore"/>.</summary>
public readonly record struct BodyRef(int Slab, int Offset, int Length);
