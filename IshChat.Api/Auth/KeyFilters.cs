using Microsoft.Extensions.Options;

namespace IshChat.Api.Auth;

public sealed class ChatOptions
{
    /// <summary>The admin API key (an Aspire secret parameter); admin endpoints refuse every request when unset.</summary>
    public string? AdminApiKey { get; set; }
}

/// <summary>Lets a request through only with an instance's valid API key, and scopes it to that instance.</summary>
public sealed class InstanceKeyFilter(ApiKeyDirectory directory) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (PresentedKey.Of(http) is not { } key)
        {
            return KeyProblems.Unauthorized("Send an instance API key in the X-Api-Key header.");
        }

        InstanceContext? instance;
        try
        {
            instance = await directory.FindAsync(key, http.RequestAborted);
        }
        catch (LookupsExhaustedException ex)
        {
            http.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
        }

        if (instance is null)
        {
            return KeyProblems.Unauthorized("The API key is not valid (unknown, revoked or expired).");
        }

        instance.AttachTo(http);
        return await next(context);
    }

    internal static bool TryReadKey(HttpContext http, out string key)
    {
        key = http.Request.Headers[ApiKeys.HeaderName].ToString();
        return key.Length is > 0 and <= ApiKeys.MaxLength;
    }
}

/// <summary>Lets a request through only with the admin key.</summary>
public sealed class AdminKeyFilter(IOptions<ChatOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var adminKey = options.Value.AdminApiKey;
        if (string.IsNullOrEmpty(adminKey) || !InstanceKeyFilter.TryReadKey(context.HttpContext, out var key) || !ApiKeys.Matches(key, adminKey))
        {
            return KeyProblems.Unauthorized("This endpoint needs the admin API key in the X-Api-Key header.");
        }

        return await next(context);
    }
}

internal static class KeyProblems
{
    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
}
