using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// An order-independent checksum: the sum of each row's MD5 (first 8 bytes, as a signed
/// big-endian integer). PostgreSQL computes the same sum with
/// <c>sum(('x' || left(md5(row), 16))::bit(64)::bigint::numeric)</c>, so the two sides agree
/// without sorting or shipping rows.
/// </summary>
public sealed class Checksum
{
    private Int128 sum;

    public long Rows { get; private set; }

    public string Value => sum.ToString(CultureInfo.InvariantCulture);

    public void Add(string canonicalRow) => Add(Hash(canonicalRow));

    /// <summary>Adds a row hashed earlier (on another thread) with <see cref="Hash"/>.</summary>
    public void Add(long rowHash)
    {
        sum += rowHash;
        Rows++;
    }

    public static long Hash(string canonicalRow)
    {
#pragma warning disable CA5351 // Not for security: it must equal PostgreSQL's md5(), which verify computes server-side.
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(Encoding.UTF8.GetBytes(canonicalRow), hash);
#pragma warning restore CA5351
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    public static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static string Device(DeviceRow d) => $"{d.LegacyId}|{d.Name}|{Micros(d.CreatedAt)}";

    public static string Session(SessionRow s) =>
        $"{s.LegacyId}|{s.DeviceLegacyId}|{(s.EndedAt is null ? "active" : "ended")}|{Micros(s.StartedAt)}|{(s.EndedAt is { } e ? Micros(e).ToString(CultureInfo.InvariantCulture) : "")}";

    /// <summary>A message by its identity in both worlds: its session's legacy id and its client id.</summary>
    public static string Message(MessageRow m) =>
        $"{m.SessionLegacyId}|{m.ClientMessageId:D}|{m.SenderLegacyId}|{m.Body}|{Micros(m.CreatedAt)}";
}
