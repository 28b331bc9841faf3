using IshChat.Cluster.Docker;
using IshChat.Cluster.Backup;
using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.Shared;
using Microsoft.Extensions.DependencyInjection;
using IshChat.Cluster.Tls;
using Npgsql;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// The whole AppHost started once, headless, with random host ports and volumes of its own (so it can run beside a
/// developer's own AppHost and never starts from its data), shared by the end-to-end tests and disposed, containers
/// and volumes and all, at the end.
/// </summary>
public sealed class AppHostClusterFixture(IMessageSink sink) : IAsyncLifetime
{
    /// <summary>Cold, the images are built first (a few minutes on 2 cores); warm, the cluster is healthy in about a minute.</summary>
    private static readonly TimeSpan startTimeout = TimeSpan.FromMinutes(15);

    /// <summary>This run's own volume set: never a developer's data, and removed at the end.</summary>
    private readonly string volumePrefix = AppHostRun.NewVolumePrefix();

    public DistributedApplication App { get; private set; } = null!;

    public PatroniClusterResource Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(startTimeout);
        App = await AppHostRun.StartAsync(sink, [$"--{DataVolumes.PrefixKey}={volumePrefix}"], timeout.Token);
        Cluster = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<PatroniClusterResource>().Single();
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        await DataVolumes.RemoveSetAsync(volumePrefix, AppHostRun.VolumeRemovalPatience);
    }

    /// <summary>
    /// Stops the AppHost as Ctrl+C does (containers and network removed, volumes kept) and starts it again on the same
    /// volumes, with every parameter as it was except <paramref name="changedParameters"/> (name → new value), as a
    /// developer whose user secrets changed would. Returns how long the restart took until every tier was healthy.
    /// </summary>
    public Task<TimeSpan> RestartAsync(IReadOnlyDictionary<string, string> changedParameters, CancellationToken cancellationToken) =>
        RestartAsync(changedParameters, beforeStart: null, [], cancellationToken);

    /// <summary>
    /// As docs/backup.md says to restore the whole cluster to <paramref name="restoreArguments"/>' target: stop the
    /// AppHost, remove the cluster's volumes (the backup store's kept, as <c>eng/down.sh --cluster-volumes</c>), start it
    /// with <c>IshChat:Restore:*</c>. Returns how long it took until every tier was healthy.
    /// </summary>
    public Task<TimeSpan> RestoreAsync(IReadOnlyDictionary<string, string> restoreArguments, CancellationToken cancellationToken) =>
        RestartAsync(
            new Dictionary<string, string>(),
            ct => DataVolumes.RemoveSetAsync(volumePrefix, AppHostRun.VolumeRemovalPatience, DataVolumeKind.Cluster, ct),
            [.. restoreArguments.Select(a => $"--{a.Key}={a.Value}")],
            cancellationToken);

    private async Task<TimeSpan> RestartAsync(
        IReadOnlyDictionary<string, string> changedParameters, Func<CancellationToken, Task>? beforeStart, string[] extraArguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changedParameters);
        var parameters = new Dictionary<string, string>();
        foreach (var parameter in App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>())
        {
            parameters[parameter.Name] = changedParameters.TryGetValue(parameter.Name, out var changed)
                ? changed
                : await parameter.GetValueAsync(cancellationToken) ?? "";
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await App.StopAsync(cancellationToken);
        await App.DisposeAsync();
        App = null!;
        if (beforeStart is not null)
        {
            await beforeStart(cancellationToken);
        }

        App = await AppHostRun.StartAsync(
            sink, [$"--{DataVolumes.PrefixKey}={volumePrefix}", .. parameters.Select(p => $"--Parameters:{p.Key}={p.Value}"), .. extraArguments], cancellationToken);
        Cluster = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<PatroniClusterResource>().Single();
        return stopwatch.Elapsed;
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

    /// <summary>Verified TLS, as the AppHost's own connection strings: the cluster CA's certificate, and the name dialled checked.</summary>
    private async Task<string> RoleConnectionStringAsync(string role, Uri endpoint, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = endpoint.Host, Port = endpoint.Port, Database = database, Username = role,
        Password = await Cluster.Secret(ClusterRoles.PasswordOf(role)).GetValueAsync(default), Pooling = false, Timeout = 5,
    }.VerifyFull(await CertificateAuthorityFileAsync()).ConnectionString;

    /// <summary>The AppHost's CA certificate on the host (the file its connection strings name in <c>Root Certificate</c>).</summary>
    public async Task<string> CertificateAuthorityFileAsync() =>
        await Cluster.CertificateAuthority.HostFile.GetValueAsync() ?? throw new InvalidOperationException("The cluster CA has no file.");

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
        var node = FirstNodeRestUrl();
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

    /// <summary>The backup repository's recovery window as <paramref name="nodeName"/>'s pgBackRest reports it.</summary>
    public async Task<RecoveryWindow> RecoveryWindowAsync(string nodeName, CancellationToken cancellationToken)
    {
        var info = await DockerCli.ExecuteAsync(
            ["exec", await ContainerIdAsync(nodeName), "pgbackrest", $"--stanza={BackupStoreBuilderExtensions.Stanza(Cluster)}", .. RecoveryWindow.InfoArguments],
            cancellationToken: cancellationToken);
        return RecoveryWindow.Parse(info.EnsureSucceeded());
    }

    /// <summary>Healthy by the cluster's one rule (<see cref="ClusterState.Evaluate"/>) for this AppHost's size and mode.</summary>
    public bool IsHealthy(ClusterState state) => state.Evaluate(Cluster.ServingNodes.Count, Cluster.Settings).IsHealthy;

    public async Task<ClusterState> PatroniClusterAsync(CancellationToken cancellationToken)
    {
        var rest = await PatroniRestAsync(cancellationToken);
        var (state, error) = await rest.TryGetClusterFromAnyAsync(
            Cluster.ServingNodes.Select(n => (n.Name, (Uri?)new Uri(App.GetEndpoint(n.Name, PatroniNodeResource.RestEndpointName), "/"))), cancellationToken);
        return state ?? throw new InvalidOperationException($"No Patroni node answered: {error}");
    }

    /// <summary>Sets PostgreSQL parameters cluster-wide, as <c>patronictl edit-config -p</c> does.</summary>
    public async Task SetPostgresParametersAsync(IReadOnlyDictionary<string, string> parameters)
    {
        var rest = await PatroniRestAsync(default);
        await rest.SetPostgresParametersAsync(FirstNodeRestUrl(), parameters);
    }

    /// <summary>Patroni's dynamic configuration as etcd holds it.</summary>
    public async Task<System.Text.Json.JsonElement> DynamicConfigurationAsync() =>
        await (await PatroniRestAsync(default)).GetDynamicConfigurationAsync(FirstNodeRestUrl());

    /// <summary>Changes keys of Patroni's dynamic configuration behind the AppHost's back (<c>patronictl edit-config</c>).</summary>
    public async Task SetDynamicConfigurationAsync(IReadOnlyDictionary<string, object> keys) =>
        await (await PatroniRestAsync(default)).PatchDynamicConfigurationAsync(FirstNodeRestUrl(), keys);

    private Uri FirstNodeRestUrl() => new(App.GetEndpoint(Cluster.Nodes[0].Name, PatroniNodeResource.RestEndpointName), "/");

    private async Task<PatroniRestClient> PatroniRestAsync(CancellationToken cancellationToken)
    {
        var password = await Cluster.Secret(ClusterRoles.PasswordOf(ClusterRoles.RestApi)).GetValueAsync(cancellationToken);
        // Patroni's REST API is HTTPS with a certificate from the cluster CA.
        return new PatroniRestClient(Cluster.CertificateAuthority.CreateHttpClient(Timeout.InfiniteTimeSpan), password!);
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

/// <summary>An AppHost of its own for the restart test, which stops and starts it; alone, so two AppHosts never share the machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AppHostRestartCollection : ICollectionFixture<AppHostClusterFixture>
{
    public const string Name = "AppHost restart";
}
