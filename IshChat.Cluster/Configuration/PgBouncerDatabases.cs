namespace IshChat.Cluster.Configuration;

/// <summary>The names PgBouncer gives its database entries.</summary>
public static class PgBouncerDatabases
{
    /// <summary>Routed by HAProxy to the leader.</summary>
    public const string ReadWrite = ClusterRoles.Database;

    /// <summary>Routed by HAProxy to a streaming replica, or to the leader when none is healthy.</summary>
    public const string ReadOnly = ClusterRoles.Database + "_ro";
}
