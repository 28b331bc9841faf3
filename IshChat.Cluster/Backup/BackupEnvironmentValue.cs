namespace IshChat.Cluster.Backup;

/// <summary>A backup-related environment variable's value: a literal, or a <see cref="BackupSecret"/> each host resolves its own way.</summary>
public readonly record struct BackupEnvironmentValue
{
    private BackupEnvironmentValue(string? literal, BackupSecret? secret) => (Literal, Secret) = (literal, secret);

    public string? Literal { get; }

    public BackupSecret? Secret { get; }

    public static implicit operator BackupEnvironmentValue(string literal) => new(literal, null);

    public static implicit operator BackupEnvironmentValue(BackupSecret secret) => new(null, secret);

    public string Resolve(Func<BackupSecret, string> secrets) => Literal ?? secrets(Secret!.Value);

    public override string ToString() => Literal ?? $"<{Secret}>";
}
