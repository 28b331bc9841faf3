using System.Globalization;

namespace IshChat.Cluster.Backup;

/// <summary>
/// Where pgBackRest keeps the cluster's backups and WAL archive: an Azure Blob container or an S3 bucket. The local
/// backup store (<see cref="LocalStore"/>) is one such endpoint; a real Azure Storage account or S3 bucket is another
/// value of this record, not other code.
/// </summary>
public sealed record BackupRepository
{
    /// <summary>The account of the local backup store (Azurite); any name works, this one reads well in URLs.</summary>
    public const string LocalAccount = "ishchat";

    /// <summary>The blob container the local backup store creates at start.</summary>
    public const string LocalContainer = "ishchat-backups";

    public BackupRepositoryType Type { get; init; } = BackupRepositoryType.Azure;

    /// <summary>Endpoint host; null for the cloud's default (<c>&lt;account&gt;.blob.core.windows.net</c>, <c>s3.&lt;region&gt;.amazonaws.com</c>).</summary>
    public string? Host { get; init; }

    public int Port { get; init; } = 443;

    /// <summary>False only for a store with a self-signed certificate on the cluster's private network.</summary>
    public bool VerifyTls { get; init; } = true;

    /// <summary>Path-style URLs (<c>https://host/account/container</c>), which emulators need; the clouds use host style.</summary>
    public bool PathStyle { get; init; }

    /// <summary>Azure account, or the S3 access key id.</summary>
    public required string Account { get; init; }

    /// <summary>Azure container, or the S3 bucket.</summary>
    public required string Container { get; init; }

    /// <summary>S3 only.</summary>
    public string? Region { get; init; }

    /// <summary>The recovery window: full backups (and the WAL they need) older than this many days are expired.</summary>
    public int RetentionDays { get; init; } = 30;

    /// <summary>The local backup store container, reached by its DNS name on the cluster's network.</summary>
    public static BackupRepository LocalStore(string host) => new()
    {
        Type = BackupRepositoryType.Azure,
        Host = host,
        Port = BackupPorts.Store,
        // HACK: the store's certificate is self-signed (made on its volume at first start); the traffic never leaves
        // the cluster's private network. A CA of our own (issue: certificate authority) would let us verify it.
        VerifyTls = false,
        PathStyle = true,
        Account = LocalAccount,
        Container = LocalContainer,
    };

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Account);
        ArgumentException.ThrowIfNullOrEmpty(Container);
        ArgumentOutOfRangeException.ThrowIfLessThan(RetentionDays, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        if (Type == BackupRepositoryType.S3 && string.IsNullOrEmpty(Region))
        {
            throw new ArgumentException("An S3 repository needs its region.", nameof(Region));
        }
    }

    internal string PortText => Port.ToString(CultureInfo.InvariantCulture);
}

public enum BackupRepositoryType
{
    Azure,
    S3,
}
