using System.Diagnostics;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// The whole AppHost started once, headless, with random host ports (so it can run beside a
/// developer's own AppHost), shared by the end-to-end tests and disposed, containers and all, at the end.
/// </summary>
public sealed class AppHostClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    /// <summary>Cold, the images are built first (a few minutes on 2 cores); warm, the cluster is healthy in about a minute.</summary>
    private static readonly TimeSpan startTimeout = TimeSpan.FromMinutes(15);

    public DistributedApplication App { get; private set; } = null!;

    public PatroniClusterResource Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(startTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(
            ["--headless", "--IshChat:FixedContainerNames=false"], timeout.Token);
        // The test log gets what the AppHost says, through xunit's diagnostics; not the console's duplicate.
        builder.Services.AddLogging(logging => logging
            .ClearProviders()
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Warning)
            .AddFilter("Microsoft", LogLevel.Warning)
            // Containers' and services' own output is in `docker logs` and the dashboard; the test log keeps to what the
            // AppHost says, unless ISHCHAT_TEST_RESOURCE_LOGS=1 asks for everything (to see why an API request failed).
            .AddFilter("IshChat.AppHost.Resources", Environment.GetEnvironmentVariable("ISHCHAT_TEST_RESOURCE_LOGS") == "1" ? LogLevel.Information : LogLevel.None)
            .AddProvider(new MessageSinkLoggerProvider(sink)));
        App = await builder.BuildAsync(timeout.Token);
        Cluster = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<PatroniClusterResource>().Single();
        await App.StartAsync(timeout.Token);

        foreach (var resource in new[] { ResourceNames.Postgres, ResourceNames.HAProxy, ResourceNames.PgBouncer, ResourceNames.Redis, ResourceNames.Api, ResourceNames.Alertmanager, ResourceNames.Prometheus })
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            sink.OnMessage(new DiagnosticMessage($"[{stopwatch.Elapsed:mm\\:ss}] {resource} is healthy"));
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    public async Task<string> ConnectionStringAsync(string resourceName) =>
        await App.GetConnectionStringAsync(resourceName) ?? throw new InvalidOperationException($"{resourceName} has no connection string.");

    /// <summary>Through PgBouncer as the monitoring role, which may read pg_stat_replication.</summary>
    public Task<string> MonitorConnectionStringAsync(string database) =>
        RoleConnectionStringAsync(ClusterRoles.Monitor, FirstPgBouncerEndpoint, database);

    /// <summary>Through PgBouncer as the migrator, which may create tables.</summary>
    public Task<string> MigratorConnectionStringAsync() =>
        RoleConnectionStringAsync(ClusterRoles.Migrator, FirstPgBouncerEndpoint, PgBouncerDatabases.ReadWrite);

    /// <summary>Through the first PgBouncer as <paramref name="role"/>, to one of its database entries.</summary>
    public Task<string> PgBouncerConnectionStringAsync(string role, string database) =>
        RoleConnectionStringAsync(role, FirstPgBouncerEndpoint, database);

    /// <summary>Straight to one node's PostgreSQL as the superuser (e.g. to pause a replica's WAL replay).</summary>
    public Task<string> SuperuserConnectionStringAsync(string nodeName) =>
        RoleConnectionStringAsync(ClusterRoles.Superuser, App.GetEndpoint(nodeName, PatroniNodeResource.PostgresEndpointName), ClusterRoles.Database);

    private Uri FirstPgBouncerEndpoint => App.GetEndpoint(ResourceNames.Instance(ResourceNames.PgBouncer, 0), PgBouncerInstanceResource.PrimaryEndpointName);

    private async Task<string> RoleConnectionStringAsync(string role, Uri endpoint, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = endpoint.Host, Port = endpoint.Port, Database = database, Username = role,
        Password = await Cluster.Secret(ClusterRoles.PasswordOf(role)).GetValueAsync(default), Pooling = false, Timeout = 5,
    }.ConnectionString;

    /// <summary>The chat API (both replicas, balanced) with the admin key at hand.</summary>
    public async Task<(HttpClient Http, string AdminApiKey)> ChatApiAsync()
    {
        var adminKey = await App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ParameterResource>().Single(p => p.Name == ResourceNames.ApiAdminKey).GetValueAsync(default);
        return (App.CreateHttpClient(ResourceNames.Api), adminKey!);
    }

    /// <summary>
    /// Puts the cluster in Patroni's maintenance mode until the result is disposed: a test that pauses a replica's
    /// WAL replay needs it, since Patroni resumes a paused replay on its next loop (every 2 s) otherwise.
    /// </summary>
    public async Task<IAsyncDisposable> PatroniMaintenanceModeAsync()
    {
        var rest = await PatroniRestAsync(default);
        var node = new Uri(App.GetEndpoint(Cluster.Nodes[0].Name, PatroniNodeResource.RestEndpointName), "/");
        await rest.SetMaintenanceModeAsync(node, paused: true);
        return new AsyncDisposable(() => rest.SetMaintenanceModeAsync(node, paused: false));
    }

    /// <summary>The runtime's id of <paramref name="resourceName"/>'s container, as the orchestrator last reported it.</summary>
    public async Task<string> ContainerIdAsync(string resourceName)
    {
        var resource = await App.ResourceNotifications.WaitForResourceAsync(
            resourceName, e => e.Snapshot.Properties.Any(p => p.Name == "container.id" && p.Value is string { Length: > 0 }));
        return (string)resource.Snapshot.Properties.First(p => p.Name == "container.id").Value!;
    }

    /// <summary>Healthy by the cluster's one rule (<see cref="ClusterState.Evaluate"/>) for this AppHost's size and mode.</summary>
    public bool IsHealthy(ClusterState state) => state.Evaluate(Cluster.Nodes.Count, Cluster.Settings).IsHealthy;

    public async Task<ClusterState> PatroniClusterAsync(CancellationToken cancellationToken)
    {
        var rest = await PatroniRestAsync(cancellationToken);
        var (state, error) = await rest.TryGetClusterFromAnyAsync(
            Cluster.Nodes.Select(n => (n.Name, (Uri?)new Uri(App.GetEndpoint(n.Name, PatroniNodeResource.RestEndpointName), "/"))), cancellationToken);
        return state ?? throw new InvalidOperationException($"No Patroni node answered: {error}");
    }

    private async Task<PatroniRestClient> PatroniRestAsync(CancellationToken cancellationToken)
    {
        var password = await Cluster.Secret(ClusterRoles.PasswordOf(ClusterRoles.RestApi)).GetValueAsync(cancellationToken);
        return new PatroniRestClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, password!);
    }

    private sealed class AsyncDisposable(Func<Task> dispose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostClusterCollection : ICollectionFixture<AppHostClusterFixture>
{
    public const string Name = "AppHost cluster";
}
