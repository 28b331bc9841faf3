using IshChat.AppHost.Hosting.Images;
using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.Alertmanager;

public static class AlertmanagerBuilderExtensions
{
    /// <summary>Short, so an alert reaches operators seconds after it fires; grouping still folds a burst into one notification.</summary>
    private static readonly TimeSpan groupWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds Alertmanager. Alerts go to its "operators" receiver, which holds them for the UI and API;
    /// set ISHCHAT_ALERTMANAGER_WEBHOOK_URL on the resource to forward them to a chat or paging service.
    /// </summary>
    public static IResourceBuilder<AlertmanagerResource> AddAlertmanager(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var hostPorts = HostPorts.From(builder.Configuration);

        return builder.AddResource(new AlertmanagerResource(name))
            .WithClusterImage(ClusterImages.Alertmanager)
                .WithDevelopmentContainerName()
            .WithHttpEndpoint(port: hostPorts.Alertmanager, targetPort: ClusterPorts.Alertmanager, name: AlertmanagerResource.HttpEndpointName)
            .WithComponentEnvironment(() => MonitoringEnvironment.Alertmanager(groupWait), _ => throw new InvalidOperationException("Alertmanager needs no secrets."))
            .WithHttpHealthCheck("/-/ready", endpointName: AlertmanagerResource.HttpEndpointName)
            .WithUrlForEndpoint(AlertmanagerResource.HttpEndpointName, url => url.DisplayText = "Alertmanager")
            .ExcludeFromManifest();
    }
}
