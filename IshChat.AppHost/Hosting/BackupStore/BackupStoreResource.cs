using IshChat.Cluster.Backup;

namespace IshChat.AppHost.Hosting.BackupStore;

/// <summary>
/// The object store holding the cluster's backups and WAL archive (Azurite, an Azure Blob endpoint; see
/// containers/backup-store/README.md). Owns the repository's secrets: the store key and the encryption passphrase
/// are secret parameters kept across runs; the CA for pgBackRest's node-to-node TLS is made per run.
/// </summary>
public sealed class BackupStoreResource(string name, ParameterResource storeKey, ParameterResource cipherPassphrase)
    : ContainerResource(name)
{
    public const string BlobEndpointName = "blob";

    public EndpointReference BlobEndpoint => field ??= new(this, BlobEndpointName);

    /// <summary>The repository as the Patroni nodes reach it: this container by its DNS name on the network.</summary>
    public BackupRepository Repository => BackupRepository.LocalStore(Name);

    public ParameterResource StoreKey { get; } = storeKey;

    public ParameterResource CipherPassphrase { get; } = cipherPassphrase;

    public BackupCertificateAuthority CertificateAuthority { get; } = BackupCertificateAuthority.Create();

    /// <summary>A secret's value itself, for a container the app host starts by hand (the restore drill's).</summary>
    internal async Task<string> SecretValueAsync(BackupSecret secret, CancellationToken cancellationToken) => Secret(secret) switch
    {
        ParameterResource parameter => await parameter.GetValueAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The parameter {parameter.Name} has no value."),
        string text => text,
        var other => throw new InvalidOperationException($"{secret} resolves to a {other.GetType().Name}, not a value."),
    };

    /// <summary>A secret's value as the environment takes it: a parameter reference, or the per-run CA's PEM text.</summary>
    internal object Secret(BackupSecret secret) => secret switch
    {
        BackupSecret.StoreKey => StoreKey,
        BackupSecret.CipherPassphrase => CipherPassphrase,
        _ => CertificateAuthority.Resolve(secret) ?? throw new ArgumentOutOfRangeException(nameof(secret), secret, null),
    };
}
