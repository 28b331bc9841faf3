namespace IshChat.AppHost.Hosting.Shared;

/// <summary>What a data volume holds; decides which volumes <c>eng/down.sh --cluster-volumes</c> removes.</summary>
public enum DataVolumeKind
{
    /// <summary>A running cluster's state (PostgreSQL data, etcd data): remade from a backup by a restore.</summary>
    Cluster,

    /// <summary>The backups and WAL archive: what a restore reads, kept when the cluster's volumes are wiped.</summary>
    Backups,
}
