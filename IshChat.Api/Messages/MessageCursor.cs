using System.Globalization;

namespace IshChat.Api.Messages;

/// <summary>
/// Keyset pagination over a session's message numbers: <c>before</c> walks back from the newest,
/// <c>after</c> ("since cursor") walks forward. A cursor is a message's sequence number as text.
/// </summary>
public readonly record struct MessageCursor(long Seq)
{
    public static bool TryParse(string? text, out MessageCursor cursor)
    {
        cursor = default;
        // Digits only (no sign, spaces or exponent) and short enough to be a long.
        if (string.IsNullOrEmpty(text) || text.Length > 18 || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return false;
        }

        cursor = new MessageCursor(seq);
        return true;
    }

    public override string ToString() => Seq.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Which way a page of messages goes.</summary>
public enum PageDirection
{
    /// <summary>Newest first, older than the cursor (or from the newest).</summary>
    Backward,

    /// <summary>Oldest first, newer than the cursor: what arrived since.</summary>
    Forward,
}
