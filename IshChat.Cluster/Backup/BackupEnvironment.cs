using System.Globalization;

namespace IshChat.Cluster.Backup;

/// <summary>
/// The environment of the backup store image and the backup part of the Patroni image's (see
/// containers/backup-store/README.md and containers/patroni/README.md). Host names are the containers' DNS names on
/// the cluster's network.
/// </summary>
public static class BackupEnvironment
{
    /// <summary>The local backup store (Azurite): its account, key and the container it creates.</summary>
    public static IReadOnlyDictionary<string, BackupEnvironmentValue> Store(string hostName)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        return new Dictionary<string, BackupEnvironmentValue>
        {
            ["ISHCHAT_BACKUP_STORE_ACCOUNT"] = BackupRepository.LocalAccount,
            ["ISHCHAT_BACKUP_STORE_KEY"] = BackupSecret.StoreKey,
            ["ISHCHAT_BACKUP_STORE_CONTAINER"] = BackupRepository.LocalContainer,
            ["ISHCHAT_BACKUP_STORE_HOSTNAMES"] = hostName,
        };
    }

    /// <summary>
    /// What a Patroni node adds to <see cref="ComponentEnvironment.PatroniNode"/> to archive WAL into
    /// <paramref name="repository"/>, take backups (from a replica, reaching the other <paramref name="nodes"/>
    /// over pgBackRest's TLS) and restore from it.
    /// </summary>
    public static IReadOnlyDictionary<string, BackupEnvironmentValue> PatroniNode(
        string nodeName, IReadOnlyList<string> nodes, BackupRepository repository, string stanza)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        ArgumentException.ThrowIfNullOrEmpty(stanza);
        if (!nodes.Contains(nodeName))
        {
            throw new ArgumentException($"'{nodeName}' is not one of the nodes {string.Join(", ", nodes)}.", nameof(nodeName));
        }

        var environment = Standalone(repository, stanza);
        environment["ISHCHAT_BACKUP_NODES"] = string.Join(',', nodes);
        environment["ISHCHAT_BACKUP_TLS_CA_CERT"] = BackupSecret.CertificateAuthorityCertificate;
        environment["ISHCHAT_BACKUP_TLS_CA_KEY"] = BackupSecret.CertificateAuthorityKey;
        return environment;
    }

    /// <summary>
    /// <paramref name="repository"/> and <paramref name="stanza"/> alone, for a container that reads and restores but is
    /// no node (<c>render-pgbackrest-config --standalone</c>): the restore drill's throwaway copy, the pgBackRest exporter.
    /// </summary>
    public static Dictionary<string, BackupEnvironmentValue> Standalone(BackupRepository repository, string stanza)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentException.ThrowIfNullOrEmpty(stanza);
        repository.Validate();
        var environment = new Dictionary<string, BackupEnvironmentValue>
        {
            ["ISHCHAT_BACKUP_STANZA"] = stanza,
            ["ISHCHAT_BACKUP_STORAGE_PORT"] = repository.PortText,
            ["ISHCHAT_BACKUP_STORAGE_VERIFY_TLS"] = repository.VerifyTls ? "y" : "n",
            ["ISHCHAT_BACKUP_URI_STYLE"] = repository.PathStyle ? "path" : "host",
            ["ISHCHAT_BACKUP_RETENTION_DAYS"] = repository.RetentionDays.ToString(CultureInfo.InvariantCulture),
            ["ISHCHAT_BACKUP_CIPHER_PASS"] = BackupSecret.CipherPassphrase,
        };
        if (repository.Host is { } host)
        {
            environment["ISHCHAT_BACKUP_STORAGE_HOST"] = host;
        }

        switch (repository.Type)
        {
            case BackupRepositoryType.Azure:
                environment["ISHCHAT_BACKUP_REPO_TYPE"] = "azure";
                environment["ISHCHAT_BACKUP_AZURE_ACCOUNT"] = repository.Account;
                environment["ISHCHAT_BACKUP_AZURE_KEY"] = BackupSecret.StoreKey;
                environment["ISHCHAT_BACKUP_AZURE_CONTAINER"] = repository.Container;
                break;
            case BackupRepositoryType.S3:
                environment["ISHCHAT_BACKUP_REPO_TYPE"] = "s3";
                environment["ISHCHAT_BACKUP_S3_KEY"] = repository.Account;
                environment["ISHCHAT_BACKUP_S3_KEY_SECRET"] = BackupSecret.StoreKey;
                environment["ISHCHAT_BACKUP_S3_BUCKET"] = repository.Container;
                environment["ISHCHAT_BACKUP_S3_REGION"] = repository.Region!;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(repository), repository.Type, null);
        }

        return environment;
    }

    /// <summary>
    /// What a Patroni node of a NEW cluster adds to bootstrap from the repository at <paramref name="target"/> instead
    /// of initdb. <paramref name="archive"/> false makes it a side restore that never writes into the repository (a
    /// check, a drill, a per-instance restore), so the live cluster's archive stays its own.
    /// </summary>
    public static IReadOnlyDictionary<string, BackupEnvironmentValue> PointInTimeRestore(RestoreTarget target, bool archive)
    {
        ArgumentNullException.ThrowIfNull(target);
        var environment = new Dictionary<string, BackupEnvironmentValue>
        {
            ["ISHCHAT_RESTORE_TYPE"] = target.Type,
            ["ISHCHAT_BACKUP_ARCHIVE"] = archive ? "on" : "off",
        };
        if (target.Target is { } value)
        {
            environment["ISHCHAT_RESTORE_TARGET"] = value;
        }

        return environment;
    }
}
