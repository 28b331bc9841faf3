namespace IshChat.AppHost.Hosting.Shared;

/// <summary>Which secret parameter holds the password of each role clients may log in as.</summary>
public static class ClusterRoleSecrets
{
    public static ClusterSecret PasswordOf(string role) => role switch
    {
        ClusterRoles.App => ClusterSecret.AppPassword,
        ClusterRoles.Migrator => ClusterSecret.MigratorPassword,
        ClusterRoles.Monitor => ClusterSecret.MonitorPassword,
        _ => throw new ArgumentException($"Clients log in as {ClusterRoles.App}, {ClusterRoles.Migrator} or {ClusterRoles.Monitor}.", nameof(role)),
    };
}
