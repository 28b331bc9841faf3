using IshChat.AppHost.Hosting.Prometheus;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Grafana;

public static class GrafanaBuilderExtensions
{
    /// <summary>
    /// Adds Grafana reading <paramref name="prometheus"/>, with the dashboards of containers/grafana/dashboards,
    /// when the pinned official image is already in the local Docker engine. Nothing is ever pulled: where the
    /// image is missing, Grafana is left out with one log line saying so, and the rest of the cluster runs as usual.
    /// </summary>
    public static IResourceBuilder<GrafanaResource>? AddGrafana(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IResourceBuilder<PrometheusResource> prometheus)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(prometheus);

        const string reference = $"{GrafanaResource.Image}:{GrafanaResource.Tag}";
        if (builder.ExecutionContext.IsRunMode && !ImageExistsLocally(reference))
        {
            builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
            {
                @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Monitoring").LogWarning(
                    "Grafana is skipped: the image {Image} is not in the local Docker engine and no registry is reachable. "
                    + "Load it (docker load -i grafana.tar) and restart to get the dashboards; Prometheus and Alertmanager run without it.",
                    reference);
                return Task.CompletedTask;
            });
            return null;
        }

        var grafanaFolder = Path.Combine(RepositoryLayout.FindFrom(builder.AppHostDirectory).ContainersDirectory, "grafana");
        var adminPassword = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-admin-password", special: false));
        var hostPorts = HostPorts.From(builder.Configuration);

        return builder.AddResource(new GrafanaResource(name, adminPassword.Resource))
            .WithImage(GrafanaResource.Image, GrafanaResource.Tag)
            .WithImageRegistry("docker.io")
            .WithImagePullPolicy(ImagePullPolicy.Never)
                .WithDevelopmentContainerName()
            .WithHttpEndpoint(port: hostPorts.Grafana, targetPort: ClusterPorts.Grafana, name: GrafanaResource.HttpEndpointName)
            .WithEnvironment("GF_SECURITY_ADMIN_PASSWORD", adminPassword)
            // Viewing needs no login on a developer's machine; editing does (admin / the parameter).
            .WithEnvironment("GF_AUTH_ANONYMOUS_ENABLED", "true")
            .WithEnvironment("GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer")
            .WithEnvironment("GF_ANALYTICS_REPORTING_ENABLED", "false")
            .WithEnvironment("GF_ANALYTICS_CHECK_FOR_UPDATES", "false")
            .WithEnvironment("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "/var/lib/ishchat/dashboards/cluster-overview.json")
            // Read by the datasource file, so the file names no host of its own.
            .WithEnvironment("ISHCHAT_PROMETHEUS_URL", "http://" + MonitoringEnvironment.Target(prometheus.Resource.Name, ClusterPorts.Prometheus))
            .WithBindMount(Path.Combine(grafanaFolder, "provisioning"), "/etc/grafana/provisioning", isReadOnly: true)
            .WithBindMount(Path.Combine(grafanaFolder, "dashboards"), "/var/lib/ishchat/dashboards", isReadOnly: true)
            .WithHttpHealthCheck("/api/health", endpointName: GrafanaResource.HttpEndpointName)
            .WithUrlForEndpoint(GrafanaResource.HttpEndpointName, url => url.DisplayText = "Grafana dashboards")
            .WaitFor(prometheus)
            .ExcludeFromManifest();
    }

    private static bool ImageExistsLocally(string reference)
    {
        try
        {
            // The model is being built: nothing async is running yet, so waiting here blocks nothing.
            return DockerCli.ImageExistsAsync(reference).GetAwaiter().GetResult();
        }
        catch (DockerCommandException)
        {
            // No docker client or no engine: certainly no image.
            return false;
        }
    }
}
