using System.Text;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace IshChat.Api.Validation;

/// <summary>
/// Client mistakes that surface as exceptions rather than as a handler's 400: a body that is not
/// UTF-8 or holds an unpaired surrogate (System.Text.Json throws InvalidOperationException, which
/// minimal APIs don't treat as a bad request), oversize bodies, and data PostgreSQL refuses.
/// They become 4xx ProblemDetails; everything else stays a 500.
/// </summary>
public sealed class ClientErrorHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            InvalidOperationException { Source: "System.Text.Json" } or DecoderFallbackException =>
                (StatusCodes.Status400BadRequest, "The body is not valid UTF-8 JSON."),
            // Class 22, data exception (e.g. 22021 invalid byte sequence): the value, not the server, is wrong.
            PostgresException { SqlState: [ '2', '2', .. ] } => (StatusCodes.Status400BadRequest, "A value was refused by the database."),
            _ => (0, null),
        };
        if (status == 0)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }
}
