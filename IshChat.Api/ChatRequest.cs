using IshChat.Api.Auth;
using IshChat.Api.Caching;
using IshChat.Api.Data;

namespace IshChat.Api;

/// <summary>What every chat handler needs, bound with [AsParameters].</summary>
public sealed record ChatRequest(HttpContext Http, ChatDatabase Database, ChatCache Cache, ActivityRecorder Activity)
{
    /// <summary>Says which server answered a read: replica, primary or cache. For clients' and tests' diagnosis.</summary>
    public const string ReadRouteHeader = "X-Read-Route";

    public InstanceContext Instance => InstanceContext.Of(Http);

    public CancellationToken Aborted => Http.RequestAborted;

    public T Written<T>(WriteResult<T> write)
    {
        Http.Response.Headers[ConsistencyToken.HeaderName] = write.Token.ToString();
        return write.Value;
    }

    public T Read<T>(ReadResult<T> read)
    {
        Http.Response.Headers[ReadRouteHeader] = read.Route.ToString().ToLowerInvariant();
        return read.Value;
    }
}
