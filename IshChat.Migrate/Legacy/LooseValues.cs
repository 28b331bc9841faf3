using System.Globalization;
using System.Text;

namespace IshChat.Migrate.Legacy;

/// <summary>
/// Reads SQLite's loosely typed values the way the legacy app meant them, and nothing more:
/// anything ambiguous is "invalid" and becomes a reject, never a guess.
/// </summary>
public static class LooseValues
{
    private static readonly UTF8Encoding strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Text formats the app wrote over the years; all are UTC unless they carry an offset.</summary>
    private static readonly string[] dateFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", "yyyy-MM-ddTHH:mm:sszzz", "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz",
    ];

    // Unix seconds below this are seconds; at or above, milliseconds (year 5138 in seconds, 1973 in ms).
    private const long MillisecondsFrom = 100_000_000_000;

    /// <summary>A timestamp in PostgreSQL's precision (microseconds), or null when the value is not one.</summary>
    public static DateTimeOffset? Timestamp(object? value)
    {
        DateTimeOffset? parsed = value switch
        {
            long n when n >= 0 && n < MillisecondsFrom => DateTimeOffset.FromUnixTimeSeconds(n),
            long n when n >= MillisecondsFrom && n < 253_402_300_800_000 => DateTimeOffset.FromUnixTimeMilliseconds(n),
            string s when TryParseCommonTimestamp(s, out var d) || TryParseTimestampByFormats(s, out d) => d,
            _ => null,
        };
        // A year the API would never have written (and which PostgreSQL may not round-trip) is dirt.
        if (parsed is not { } t || t.Year < 2000 || t.Year > 2100)
        {
            return null;
        }

        return new DateTimeOffset(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);
    }

    /// <summary>The text formats as .NET parses them: the definition <see cref="TryParseCommonTimestamp"/> must agree with.</summary>
    public static bool TryParseTimestampByFormats(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, dateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>
    /// The shapes nearly every legacy timestamp has (<c>yyyy-MM-dd HH:mm:ss[.f…]</c>, <c>yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh:mm]</c>)
    /// read by position. Why: parsing against eight formats was half the rules' time in pass 1 (a profile at 10 M
    /// messages). Anything else, or any field out of range, returns false and goes to <see cref="TryParseTimestampByFormats"/>,
    /// so this never accepts what the formats refuse; LooseValuesTests holds the two to the same answers.
    /// </summary>
    public static bool TryParseCommonTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        var s = text.AsSpan();
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || s[10] is not (' ' or 'T') || s[13] != ':' || s[16] != ':'
            || !TryDigits(s[..4], out var year) || !TryDigits(s.Slice(5, 2), out var month) || !TryDigits(s.Slice(8, 2), out var day)
            || !TryDigits(s.Slice(11, 2), out var hour) || !TryDigits(s.Slice(14, 2), out var minute) || !TryDigits(s.Slice(17, 2), out var second)
            || year is < 1900 or > 2200 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var withT = s[10] == 'T';
        var rest = s[19..];
        long fraction = 0;
        if (!rest.IsEmpty && rest[0] == '.')
        {
            var digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            // One to six digits after a space (FFFFFF), one to seven after a T (FFFFFFF).
            if (digits == 1 || digits - 1 > (withT ? 7 : 6) || !TryDigits(rest[1..digits], out var f))
            {
                return false;
            }

            fraction = f * (long)Math.Pow(10, 7 - (digits - 1));
            rest = rest[digits..];
        }

        var offset = TimeSpan.Zero;
        if (!rest.IsEmpty)
        {
            if (!withT)
            {
                return false;
            }

            if (rest is ['Z'])
            {
                rest = [];
            }
            else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':' && TryDigits(rest.Slice(1, 2), out var offsetHours)
                     && TryDigits(rest.Slice(4, 2), out var offsetMinutes) && offsetMinutes <= 59 && offsetHours * 60 + offsetMinutes <= 14 * 60)
            {
                offset = new TimeSpan(offsetHours, offsetMinutes, 0) * (rest[0] == '-' ? -1 : 1);
            }
            else
            {
                return false;
            }
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fraction);
        value = new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return true;
    }

    /// <summary>The app's booleans: 0/1 from most versions, text from the v1 JSON import. NULL is false.</summary>
    public static bool? Boolean(object? value) => value switch
    {
        null => false,
        long n when n is 0 or 1 => n == 1,
        string s => s.ToLowerInvariant() switch
        {
            "1" or "true" or "t" or "yes" => true,
            "0" or "false" or "f" or "no" or "" => false,
            _ => null,
        },
        _ => null,
    };

    /// <summary>
    /// A row id written as INTEGER or as TEXT: 42 and '42' are the same id, ' 42' or '4x2' are not ids.
    /// Returned as the canonical text the mapping table keys on.
    /// </summary>
    public static string? Id(object? value) => value switch
    {
        long n => n.ToString(CultureInfo.InvariantCulture),
        string s when s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n.ToString(CultureInfo.InvariantCulture) : s,
        _ => null,
    };

    /// <summary>Text as the bytes SQLite holds, decoded strictly: invalid UTF-8 is reported, not replaced by U+FFFD.</summary>
    public static TextValue Text(object? value) => value switch
    {
        null => new TextValue(null, TextProblem.Null),
        byte[] bytes => Decode(bytes),
        string s => new TextValue(s, TextProblem.None),
        long or double => new TextValue(Convert.ToString(value, CultureInfo.InvariantCulture), TextProblem.None),
        _ => new TextValue(null, TextProblem.Null),
    };

    private static TextValue Decode(byte[] bytes)
    {
        try
        {
            return new TextValue(strictUtf8.GetString(bytes), TextProblem.None);
        }
        catch (DecoderFallbackException)
        {
            return new TextValue(null, TextProblem.InvalidUtf8);
        }
    }

    public static Guid? Uuid(string? text) =>
        text is { Length: 36 } && Guid.TryParseExact(text, "D", out var id) ? id : null;
}

public enum TextProblem
{
    None,
    Null,
    InvalidUtf8,
}

public readonly record struct TextValue(string? Text, TextProblem Problem);
