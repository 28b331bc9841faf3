namespace IshChat.Cluster.Backup;

/// <summary>The ports of the backup machinery inside its containers.</summary>
public static class BackupPorts
{
    /// <summary>The backup store's Azure Blob API (HTTPS only).</summary>
    public const int Store = 10000;

    /// <summary>pgBackRest's TLS server in every Patroni node (a backup on a replica reaches the primary here).</summary>
    public const int PgBackRestServer = 8432;
}
