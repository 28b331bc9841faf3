using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace IshChat.Migrate.Mapping;

/// <summary>
/// A fingerprint of a legacy row exactly as SQLite holds it (type and bytes of every column):
/// <c>sync</c> finds edited rows by comparing it with the one kept at import, which works
/// whatever the app did or did not do to its edited_at columns.
/// </summary>
public static class RowHash
{
    public static byte[] Of(object?[] values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> tag = stackalloc byte[1];
        foreach (var value in values)
        {
            var (type, bytes) = value switch
            {
                null => ((byte)0, []),
                long n => ((byte)1, BitConverter.GetBytes(n)),
                double d => ((byte)2, BitConverter.GetBytes(d)),
                string s => ((byte)3, Encoding.UTF8.GetBytes(s)),
                byte[] b => ((byte)4, b),
                _ => ((byte)5, Encoding.UTF8.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")),
            };
            tag[0] = type;
            hash.AppendData(tag);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset()[..16];
    }

    /// <summary>The row for the reject report: readable text, invalid bytes and NUL shown escaped.</summary>
    public static string Describe(object?[] values) => string.Join(" | ", values.Select(value => value switch
    {
        null => "NULL",
        byte[] b => Printable(b),
        string s => Quote(s),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    }));

    private static string Printable(byte[] bytes)
    {
        var text = bytes.Length > 200 ? bytes[..200] : bytes;
        try
        {
            return Quote(new UTF8Encoding(false, true).GetString(text)) + (bytes.Length > 200 ? $"…({bytes.Length} bytes)" : "");
        }
        catch (DecoderFallbackException)
        {
            return "x'" + Convert.ToHexStringLower(text) + "'" + (bytes.Length > 200 ? "…" : "");
        }
    }

    private static string Quote(string s) =>
        "'" + string.Concat(s.Take(200).Select(c => char.IsControl(c) && c is not '\n' ? $"\\u{(int)c:x4}" : c.ToString())) + "'" + (s.Length > 200 ? "…" : "");
}
