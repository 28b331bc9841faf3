namespace IshChat.Api.Auth;

/// <summary>
/// The SHA-256 of the API key a request presents, hashed once per request: the rate limiter partitions by it and the
/// key filter looks the instance up by it (each used to hash the key itself).
/// </summary>
public sealed record PresentedKey(byte[] Hash, string HashHex)
{
    private const string ItemKey = nameof(PresentedKey);

    /// <summary>The request's key, or null when it sends none or one longer than any key we issue.</summary>
    public static PresentedKey? Of(HttpContext http)
    {
        if (http.Items.TryGetValue(ItemKey, out var remembered))
        {
            return (PresentedKey)remembered!;
        }

        if (!InstanceKeyFilter.TryReadKey(http, out var key))
        {
            return null;
        }

        var hash = ApiKeys.Hash(key);
        var presented = new PresentedKey(hash, Convert.ToHexString(hash));
        http.Items[ItemKey] = presented;
        return presented;
    }
}
