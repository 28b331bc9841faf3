namespace IshChat.Api.Auth;

/// <summary>Too many lookups of keys not yet in memory are waiting; the client should retry shortly.</summary>
public sealed class LookupsExhaustedException : Exception
{
    public LookupsExhaustedException()
        : base("Too many API key lookups are waiting; retry shortly.")
    {
    }

    public LookupsExhaustedException(string message)
        : base(message)
    {
    }

    public LookupsExhaustedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
