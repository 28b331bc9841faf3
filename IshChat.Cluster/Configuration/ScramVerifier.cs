using System.Security.Cryptography;
using System.Text;

namespace IshChat.Cluster.Configuration;

/// <summary>
/// PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802/7677, as <c>pg_authid.rolpassword</c> stores it):
/// <c>ALTER ROLE … PASSWORD '&lt;verifier&gt;'</c> sets the password without the server, or whoever hands it the
/// statement, ever holding the password itself. A verifier can't be replayed to log in.
/// </summary>
public static class ScramVerifier
{
    /// <summary>PostgreSQL's default (scram_iterations).</summary>
    private const int Iterations = 4096;

    public static string Of(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        var prepared = Encoding.UTF8.GetBytes(Prepare(password));
        // The same password always gives the same verifier: every node is handed it at every start, and the
        // reconcile callback (containers/patroni/reconcile-roles.sh) compares it with pg_authid to tell a changed
        // password from an unchanged one. A random salt made every promotion set a new verifier, and PgBouncer's
        // pass-through logins, made with the old salt, then failed ("server login has been failing"). The salt comes
        // from the password through the same 4096 PBKDF2 rounds, so it makes guessing no cheaper than the verifier.
        var salt = Rfc2898DeriveBytes.Pbkdf2(prepared, "ishchat scram salt"u8.ToArray(), Iterations, HashAlgorithmName.SHA256, 16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(prepared, salt, Iterations, HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    /// <summary>
    /// PostgreSQL applies SASLprep to the password first, and uses it unchanged when that fails. Printable ASCII (every
    /// generated password) is unchanged either way; otherwise this approximates SASLprep with NFKC and its mapping of
    /// non-ASCII spaces, which covers ordinary text.
    /// </summary>
    private static string Prepare(string password)
    {
        if (password.All(c => c is >= ' ' and <= '~'))
        {
            return password;
        }

        var mapped = new string([.. password.Select(c => char.IsWhiteSpace(c) && c > '~' ? ' ' : c)]);
        return mapped.Any(char.IsControl) ? password : mapped.Normalize(NormalizationForm.FormKC);
    }
}
