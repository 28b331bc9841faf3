using System.Text;

namespace IshChat.Api.Validation;

/// <summary>
/// What text the database accepts, checked before it gets there: PostgreSQL's <c>text</c> refuses
/// NUL, and a lone UTF-16 surrogate (the JSON escape "\ud800") has no UTF-8 form at all.
/// Lengths count code points, as PostgreSQL's <c>char_length</c> does.
/// </summary>
public static class TextRules
{
    public const int MaxMessageLength = 4000;
    public const int MaxNameLength = 100;

    /// <summary>Null when <paramref name="text"/> is a valid message body, else why not.</summary>
    public static string? CheckMessage(string? text) => Check(text, MaxMessageLength, allowLineBreaks: true);

    /// <summary>Null when <paramref name="text"/> is a valid name (one line), else why not.</summary>
    public static string? CheckName(string? text) => Check(text, MaxNameLength, allowLineBreaks: false);

    private static string? Check(string? text, int maxLength, bool allowLineBreaks)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "Must not be empty.";
        }

        var codePoints = 0;
        var remaining = text.AsSpan();
        while (!remaining.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(remaining, out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return "Must be valid Unicode (a lone surrogate has no UTF-8 form).";
            }

            if (rune.Value == 0)
            {
                return "Must not contain NUL characters.";
            }

            if (Rune.IsControl(rune) && !(allowLineBreaks && rune.Value is '\n' or '\r' or '\t'))
            {
                return allowLineBreaks ? "Must not contain control characters other than line breaks and tabs." : "Must not contain control characters.";
            }

            if (++codePoints > maxLength)
            {
                return $"Must be at most {maxLength} characters.";
            }

            remaining = remaining[consumed..];
        }

        return null;
    }
}
