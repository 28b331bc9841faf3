namespace IshChat.Cluster.Backup;

/// <summary>
/// The backup repository's secrets. The AppHost keeps the store key and the passphrase as Aspire secret parameters
/// (they must survive restarts: a lost passphrase makes every backup unreadable) and makes a certificate authority
/// per run; the Testcontainers suite makes all of them per run. Nothing here holds a value.
/// </summary>
public enum BackupSecret
{
    /// <summary>The object store's account key (Azure Shared Key, base64).</summary>
    StoreKey,

    /// <summary>pgBackRest's repository encryption passphrase (aes-256-cbc).</summary>
    CipherPassphrase,

    /// <summary>PEM certificate of the CA that signs each Patroni node's certificate for pgBackRest's node-to-node TLS.</summary>
    CertificateAuthorityCertificate,

    /// <summary>PEM private key of that CA.</summary>
    CertificateAuthorityKey,
}
