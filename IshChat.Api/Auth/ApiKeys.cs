using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace IshChat.Api.Auth;

/// <summary>
/// API keys are 256 random bits; only their SHA-256 is stored. A fast hash is enough for keys
/// this long (no dictionary to try), and it keeps the per-request lookup cheap.
/// </summary>
public static class ApiKeys
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>Longer than any key we issue; anything longer is refused before hashing.</summary>
    public const int MaxLength = 128;

    private const string Prefix = "ick_";

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// A key derived from <paramref name="secret"/> and <paramref name="purpose"/> (HMAC-SHA256): the same inputs give the
    /// same key, so an idempotent retry can hand back a key whose first issue was lost; nobody without the secret can.
    /// </summary>
    public static string Derive(string secret, string purpose) =>
        Prefix + Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(purpose)));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Compares in constant time, so response timing tells nothing about the admin key.</summary>
    public static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), Hash(expected));
}
