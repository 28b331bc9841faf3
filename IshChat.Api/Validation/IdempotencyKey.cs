using System.Security.Cryptography;
using System.Text;

namespace IshChat.Api.Validation;

/// <summary>
/// The <c>Idempotency-Key</c> request header of the creating endpoints (devices, sessions, instances): a client that
/// retries after a lost response sends the same key and gets the same resource, not a second one. No table is kept:
/// the new resource's id is derived from the key (and the instance it belongs to), so the retry's insert finds the
/// first one's row.
/// </summary>
public static class IdempotencyKey
{
    public const string HeaderName = "Idempotency-Key";

    public const int MaxLength = 200;

    /// <summary>The header's value, null when absent; an empty, overlong or non-printable one is a request error.</summary>
    public static string? Read(HttpContext http, RequestErrors errors)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(errors);
        var header = http.Request.Headers[HeaderName];
        if (header.Count == 0)
        {
            return null;
        }

        var key = header.ToString();
        if (header.Count > 1 || key.Length is 0 or > MaxLength || key.Any(c => c is < '!' or > '~'))
        {
            errors.Add(HeaderName, $"Must be one value of 1 to {MaxLength} printable ASCII characters without spaces.");
            return null;
        }

        return key;
    }

    /// <summary>
    /// A version-8 UUID (RFC 9562: application-defined) from <paramref name="scope"/> (the instance, or empty for
    /// instances themselves), the kind of resource and the key: equal inputs, equal ids; anything else, unrelated ids.
    /// </summary>
    public static Guid DeriveId(Guid scope, string kind, string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{scope:N}/{kind}/{key}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
