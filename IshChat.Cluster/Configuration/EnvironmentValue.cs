namespace IshChat.Cluster.Configuration;

/// <summary>An environment variable's value: a literal, or a secret each host resolves its own way.</summary>
public readonly record struct EnvironmentValue
{
    private EnvironmentValue(string? literal, ClusterSecret? secret) => (Literal, Secret) = (literal, secret);

    public string? Literal { get; }

    public ClusterSecret? Secret { get; }

    public static implicit operator EnvironmentValue(string literal) => new(literal, null);

    public static implicit operator EnvironmentValue(ClusterSecret secret) => new(null, secret);

    public string Resolve(Func<ClusterSecret, string> secrets) => Literal ?? secrets(Secret!.Value);

    public override string ToString() => Literal ?? $"<{Secret}>";
}
