using System.Diagnostics.CodeAnalysis;
using NpgsqlTypes;

namespace IshChat.Api.Data;

/// <summary>
/// A write's commit position in the WAL, handed to the client after a write. A read presenting it
/// is served by a replica only once that replica has replayed past it (read-your-writes).
/// </summary>
public readonly record struct ConsistencyToken(NpgsqlLogSequenceNumber Lsn)
{
    public const string HeaderName = "X-Consistency-Token";

    public static bool TryParse([NotNullWhen(true)] string? text, out ConsistencyToken token)
    {
        token = default;
        // PostgreSQL's own notation, e.g. 0/16B3748; anything else is a client mistake.
        if (text is null || text.Length > 17 || !NpgsqlLogSequenceNumber.TryParse(text, out var lsn))
        {
            return false;
        }

        token = new ConsistencyToken(lsn);
        return true;
    }

    public bool IsReachedBy(NpgsqlLogSequenceNumber position) => position >= Lsn;

    public override string ToString() => Lsn.ToString();
}
