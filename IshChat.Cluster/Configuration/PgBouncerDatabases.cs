namespace IshChat.Cluster.Configuration;

/// <summary>The names PgBouncer gives its database entries.</summary>
public static class PgBouncerDatabases
{
    /// <summary>Routed by HAProxy to the leader.</summary>
    public const string ReadWrite = ClusterRoles.Database;

    /// <summary>Routed by HAProxy to a streaming replica, or to the leader when none is healthy.</summary>
    public const string ReadOnly = ClusterRoles.Database + "_ro";

    /// <summary>
    /// The entry of one instance type's own pool (<c>ishchat_trial</c>, <c>ishchat_ro_enterprise</c>…): the same server
    /// database as <see cref="ReadWrite"/> or <see cref="ReadOnly"/>, capped at <see cref="PgBouncerSettings.InstancePools"/>.
    /// </summary>
    public static string ForInstanceType(string instanceType, bool readOnly) => $"{(readOnly ? ReadOnly : ReadWrite)}_{instanceType}";
}
