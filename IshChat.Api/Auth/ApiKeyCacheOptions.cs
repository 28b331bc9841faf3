namespace IshChat.Api.Auth;

/// <summary>How long a key lookup is remembered and how hard unknown keys may press on the primary.</summary>
public sealed class ApiKeyCacheOptions
{
    /// <summary>
    /// The longest a revoked key still works on a replica that missed the revocation broadcast (Redis down): every
    /// replica forgets a known key after this long and asks the database again.
    /// </summary>
    public TimeSpan KnownKeyLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A key the database did not know is refused from memory for this long, so repeating it costs no query.</summary>
    public TimeSpan UnknownKeyLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Lookups of keys not in memory that may run on the primary at once, per API replica; more wait.</summary>
    public int MaxConcurrentLookups { get; set; } = 4;

    /// <summary>Lookups that may wait for one of those slots; past this a request is refused with 429 at once.</summary>
    public int MaxQueuedLookups { get; set; } = 200;

    /// <summary>Entries (known and unknown keys) kept in memory; guessing can't grow the cache past this.</summary>
    public long MaxEntries { get; set; } = 100_000;
}
