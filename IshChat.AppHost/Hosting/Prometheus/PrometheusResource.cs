using IshChat.AppHost.Hosting.Alertmanager;

namespace IshChat.AppHost.Hosting.Prometheus;

/// <summary>
/// Prometheus scraping the cluster's components by their DNS names on the cluster's network and
/// the API's replicas on the host, evaluating the alert rules baked into its image.
/// </summary>
public sealed class PrometheusResource(string name, string fileTargetsDirectory) : ContainerResource(name)
{
    public const string HttpEndpointName = "http";

    private readonly Dictionary<string, List<string>> staticJobs = [];

    public EndpointReference HttpEndpoint => field ??= new(this, HttpEndpointName);

    /// <summary>Scrape job name → <c>host:port</c> targets; the job names are fixed (<see cref="MonitoringEnvironment.Jobs"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> StaticJobs =>
        staticJobs.ToDictionary(j => j.Key, j => (IReadOnlyList<string>)j.Value);

    /// <summary>The postgres_exporter that probes the nodes of the <c>postgres</c> job.</summary>
    public string? PostgresExporterTarget { get; internal set; }

    public AlertmanagerResource? Alertmanager { get; internal set; }

    /// <summary>The host folder, mounted into the container, where the app host writes the API replicas' targets.</summary>
    public string FileTargetsDirectory { get; } = fileTargetsDirectory;

    internal void AddTargets(string job, IEnumerable<string> targets)
    {
        if (!staticJobs.TryGetValue(job, out var list))
        {
            staticJobs[job] = list = [];
        }

        list.AddRange(targets.Except(list));
    }
}
