using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Shared;

internal static class ReadinessBanner
{
    /// <summary>
    /// Logs one line when clients can connect, with the time it took and how to connect: the
    /// signal scripts wait for in headless mode, and a newcomer's first psql command.
    /// </summary>
    public static void AddReadinessBanner(this IDistributedApplicationBuilder builder, IResourceBuilder<PgBouncerResource> pgbouncer, IResourceBuilder<PatroniClusterResource> cluster)
    {
        var started = DateTime.UtcNow;
        builder.Eventing.Subscribe<ResourceReadyEvent>(pgbouncer.Resource, (@event, _) =>
        {
            var endpoint = pgbouncer.Resource.PrimaryEndpoint;
            var leader = cluster.Resource.LastObservedState?.Leader?.Name ?? "electing";
            @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat").LogInformation(
                "IshChat cluster ready after {Seconds:F0} s (leader {Leader}). Connect: psql \"host={Host} port={Port} dbname={Database} user={User}\" "
                + "(password: parameter {Parameter} on the dashboard, or `dotnet user-secrets list --project IshChat.AppHost`)",
                (DateTime.UtcNow - started).TotalSeconds, leader, endpoint.Host, endpoint.Port, PgBouncerDatabases.ReadWrite, ClusterRoles.App,
                cluster.Resource.Secret(ClusterSecret.AppPassword).Name);
            return Task.CompletedTask;
        });
    }
}
