using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.SinglePostgres;

public static class SinglePostgresBuilderExtensions
{
    /// <summary>
    /// One PostgreSQL 17, no HA: Aspire's <c>AddPostgres</c> (its health check, data volume and superuser connection
    /// string) running our patroni image in its single-server mode, which honours the official image's environment
    /// contract and creates the IshChat database and roles on the first start. The passwords are the HA cluster's
    /// parameters (<c>{name}-app-password</c> …), so switching topology keeps them. Published on the documented port
    /// 6432 (IshChat:HostPorts:PgBouncer), so the README's psql command reaches it too.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddSinglePostgres(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var secrets = builder.AddClusterSecrets(name);
        var superuserPassword = builder.CreateResourceBuilder(secrets[ClusterSecret.SuperuserPassword]);
        return builder.AddPostgres(name, password: superuserPassword, port: HostPorts.From(builder.Configuration).PgBouncer)
            .WithClusterImage(ClusterImages.Patroni)
            .WithDevelopmentContainerName()
            .WithDataVolume()
            .WithComponentEnvironment(ComponentEnvironment.SinglePostgres, secret => secrets[secret])
            .WithAnnotation(new SinglePostgresSecretsAnnotation(secrets));
    }

    /// <summary>A connection string to the IshChat database as <paramref name="role"/> (not the superuser Aspire's own hands out).</summary>
    public static IResourceBuilder<SinglePostgresRoleConnectionResource> AddRoleConnection(
        this IResourceBuilder<PostgresServerResource> builder, [ResourceName] string name, string role)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var secrets = builder.Resource.Annotations.OfType<SinglePostgresSecretsAnnotation>().SingleOrDefault()?.Secrets
            ?? throw new InvalidOperationException($"'{builder.Resource.Name}' was not added with AddSinglePostgres.");

        return builder.ApplicationBuilder.AddResource(new SinglePostgresRoleConnectionResource(name, builder.Resource, role, secrets[ClusterRoles.PasswordOf(role)]))
            .WithParentRelationship(builder);
    }
}
