using System.Security.Cryptography;
using System.Text;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// New ids are a function of (instance, table, legacy id): a re-run or a resumed import produces
/// the same ids, so nothing needs to be looked up to stay idempotent. They are UUIDv7 with the
/// row's own time, so imported sessions sort among new ones as the API expects (newest first).
/// </summary>
public static class NewIds
{
    public static Guid For(Guid instanceId, string table, string legacyId, DateTimeOffset time)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{instanceId:D}/{table}/{legacyId}"), hash);
        Span<byte> bytes = stackalloc byte[16];
        var ms = time.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(ms >> (8 * (5 - i)));
        }

        hash[..10].CopyTo(bytes[6..]);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>For messages written before client ids existed: stable per legacy row, version 8 ("custom").</summary>
    public static Guid DerivedClientId(Guid instanceId, long legacyMessageId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{instanceId:D}/client_msg_id/{legacyMessageId}"), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)(0x80 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }
}
