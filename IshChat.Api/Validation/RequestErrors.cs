using IshChat.Api.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IshChat.Api.Validation;

/// <summary>Collects every field's problem, so one 400 tells the client all it got wrong.</summary>
public sealed class RequestErrors
{
    private readonly Dictionary<string, string[]> errors = new(StringComparer.Ordinal);

    public bool Any => errors.Count > 0;

    public IDictionary<string, string[]> ToDictionary() => errors;

    public void Add(string field, string message) =>
        errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];

    public void AddIf(string field, string? message)
    {
        if (message is not null)
        {
            Add(field, message);
        }
    }

    /// <summary>An id in a route or body: a UUID, or a 400 naming the field.</summary>
    public Guid Id(string field, string? text)
    {
        if (Guid.TryParse(text, out var id) && id != Guid.Empty)
        {
            return id;
        }

        Add(field, "Must be a UUID.");
        return Guid.Empty;
    }

    public Guid Id(string field, Guid? value)
    {
        if (value is { } id && id != Guid.Empty)
        {
            return id;
        }

        Add(field, "Is required (a non-empty UUID).");
        return Guid.Empty;
    }

    /// <summary>A page size between 1 and <paramref name="max"/>, <paramref name="fallback"/> when absent.</summary>
    public int Limit(string? text, int fallback, int max)
    {
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, null, out var limit) && limit >= 1 && limit <= max)
        {
            return limit;
        }

        Add("limit", $"Must be a whole number from 1 to {max}.");
        return fallback;
    }

    /// <summary>The request's consistency token, if it sent one.</summary>
    public ConsistencyToken? Token(HttpContext http)
    {
        var header = http.Request.Headers[ConsistencyToken.HeaderName];
        if (header.Count == 0)
        {
            return null;
        }

        if (ConsistencyToken.TryParse(header.ToString(), out var token))
        {
            return token;
        }

        Add(ConsistencyToken.HeaderName, "Must be a consistency token this API returned (e.g. 0/16B3748).");
        return null;
    }

    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(errors);
}
