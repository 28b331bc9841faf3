using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Shared;

internal static class ReadinessBanner
{
    /// <summary>
    /// Logs one line when PgBouncer answers queries and the cluster has its leader and all
    /// replicas streaming, with the time it took and how to connect: the signal scripts wait
    /// for in headless mode, and a newcomer's first psql command.
    /// </summary>
    public static void AddReadinessBanner(this IDistributedApplicationBuilder builder, IResourceBuilder<PgBouncerResource> pgbouncer, IResourceBuilder<PatroniClusterResource> cluster)
    {
        var started = DateTime.UtcNow;
        builder.Eventing.Subscribe<ResourceReadyEvent>(pgbouncer.Resource, (@event, dispatchToken) =>
        {
            var stopping = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat");
            _ = Task.Run(async () =>
            {
                await notifications.WaitForHealthChecksAsync(cluster.Resource.Name, stopping);
                // The first instance holds the documented host port (6432); the API uses them all.
                var endpoint = pgbouncer.Resource.Instances[0].PrimaryEndpoint;
                // eng/run.sh passes when it started, so the line also reports the whole run: setup, build, images, cluster.
                var sinceRun = long.TryParse(Environment.GetEnvironmentVariable("ISHCHAT_RUN_STARTED_AT"), out var runStarted)
                    ? $" ({DateTimeOffset.UtcNow.ToUnixTimeSeconds() - runStarted} s since eng/run.sh started)"
                    : "";
                // TLS only: the command names the cluster CA's certificate, so psql verifies the server too.
                var certificateAuthorityFile = await cluster.Resource.CertificateAuthority.HostFile.GetValueAsync(stopping);
                logger.LogInformation(
                    "IshChat cluster ready after {Seconds:F0} s{SinceRun}: leader {Leader}, {Replicas} streaming replicas. "
                    + "Connect: psql \"host={Host} port={Port} dbname={Database} user={User} sslmode=verify-full sslrootcert={CertificateAuthority}\" "
                    + "(password: parameter {Parameter} on the dashboard, or `dotnet user-secrets list --project IshChat.AppHost`)",
                    (DateTime.UtcNow - started).TotalSeconds, sinceRun, cluster.Resource.LastObservedState?.Leader?.Name,
                    cluster.Resource.ConfiguredReplicas, endpoint.Host, endpoint.Port, PgBouncerDatabases.ReadWrite, ClusterRoles.App,
                    certificateAuthorityFile, cluster.Resource.Secret(ClusterSecret.AppPassword).Name);
            }, stopping);
            return Task.CompletedTask;
        });
    }
}
