namespace IshChat.Cluster.Configuration;

/// <summary>
/// An environment variable's value: a literal, or a secret each host resolves its own way, either itself or (for a
/// server that only has to set a role's password) its SCRAM verifier, so the container never holds the password.
/// </summary>
public readonly record struct EnvironmentValue
{
    private EnvironmentValue(string? literal, ClusterSecret? secret, bool asVerifier) => (Literal, Secret, AsVerifier) = (literal, secret, asVerifier);

    public string? Literal { get; }

    public ClusterSecret? Secret { get; }

    /// <summary>The secret is delivered as its <see cref="ScramVerifier"/>, never as itself.</summary>
    public bool AsVerifier { get; }

    public static implicit operator EnvironmentValue(string literal) => new(literal, null, asVerifier: false);

    public static implicit operator EnvironmentValue(ClusterSecret secret) => new(null, secret, asVerifier: false);

    /// <summary>The SCRAM-SHA-256 verifier of <paramref name="secret"/>, computed when the container starts.</summary>
    public static EnvironmentValue VerifierOf(ClusterSecret secret) => new(null, secret, asVerifier: true);

    public string Resolve(Func<ClusterSecret, string> secrets) =>
        Literal ?? (AsVerifier ? ScramVerifier.Of(secrets(Secret!.Value)) : secrets(Secret!.Value));

    public override string ToString() => Literal ?? (AsVerifier ? $"<verifier of {Secret}>" : $"<{Secret}>");
}
