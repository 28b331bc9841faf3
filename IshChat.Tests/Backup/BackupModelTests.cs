using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.Cluster.Backup;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.Tests.Backup;

/// <summary>
/// The AppHost's backup wiring and the backup environment's contract, inspected without starting anything: these run
/// with the unit tests (no Docker) and with <c>Category=Backup</c>.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed class BackupModelTests : IAsyncDisposable
{
    private DistributedApplication? app;
    private IServiceProvider services = null!;

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    private async Task<DistributedApplicationModel> BuildModelAsync(params string[] arguments)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(["--IshChat:ModelOnly=true", .. arguments]);
        app = await builder.BuildAsync();
        services = app.Services;
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }

    [Fact]
    public async Task TheBackupStoreKeepsItsDataOnANamedVolumeAndHasAHealthCheck()
    {
        var model = await BuildModelAsync();

        var store = Assert.Single(model.Resources.OfType<BackupStoreResource>());
        Assert.True(store.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), "the backup store has no health check");
        var volume = Assert.Single(store.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/var/lib/backup-store");
        Assert.Equal(ContainerMountType.Volume, volume.Type);
        Assert.Equal("ishchat-backup-store-data", volume.Source);
        Assert.Contains(store.Annotations.OfType<EndpointAnnotation>(), e => e.Name == BackupStoreResource.BlobEndpointName && e.TargetPort == BackupPorts.Store);
    }

    [Fact]
    public async Task EveryPatroniNodeArchivesToTheStoreWithSecretsFromParameters()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());
        var store = Assert.Single(model.Resources.OfType<BackupStoreResource>());

        foreach (var node in cluster.Nodes)
        {
            var environment = await ResourceEnvironment.EvaluateAsync(node, services);

            Assert.Equal("azure", environment["ISHCHAT_BACKUP_REPO_TYPE"]);
            Assert.Equal(store.Name, environment["ISHCHAT_BACKUP_STORAGE_HOST"]);
            // The configured nodes, and a spare itself (an absent spare would keep pgBackRest waiting)
            Assert.Equal(node.IsSpare ? $"pg-0,pg-1,pg-2,pg-3,{node.Name}" : "pg-0,pg-1,pg-2,pg-3", environment["ISHCHAT_BACKUP_NODES"]);
            Assert.Equal(BackupStoreBuilderExtensions.Stanza(cluster), environment["ISHCHAT_BACKUP_STANZA"]);
            Assert.Equal(await store.StoreKey.GetValueAsync(default), environment["ISHCHAT_BACKUP_AZURE_KEY"]);
            Assert.Equal(await store.CipherPassphrase.GetValueAsync(default), environment["ISHCHAT_BACKUP_CIPHER_PASS"]);
            Assert.Contains("BEGIN CERTIFICATE", environment["ISHCHAT_BACKUP_TLS_CA_CERT"], StringComparison.Ordinal);
            Assert.Contains(node.Annotations.OfType<WaitAnnotation>(), w => w.Resource == store);
        }
    }

    [Fact]
    public async Task ARestoreRunBootstrapsEveryNodeFromTheNamedStanzaAtTheTarget()
    {
        var model = await BuildModelAsync(
            "--IshChat:Restore:Stanza=ishchat-pg-20261125-114311", "--IshChat:Restore:Type=time", "--IshChat:Restore:Target=2026-11-25 11:44:00");
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        foreach (var node in cluster.Nodes)
        {
            var environment = await ResourceEnvironment.EvaluateAsync(node, services);

            Assert.Equal("ishchat-pg-20261125-114311", environment["ISHCHAT_BACKUP_STANZA"]);
            Assert.Equal("time", environment["ISHCHAT_RESTORE_TYPE"]);
            Assert.Equal("2026-11-25 11:44:00.000000+00", environment["ISHCHAT_RESTORE_TARGET"]);
            Assert.Equal("on", environment["ISHCHAT_BACKUP_ARCHIVE"]);
        }
    }

    [Fact]
    public async Task TheClusterHasBackUpNowAndRunRestoreDrillCommands()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());

        var commands = cluster.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).ToList();

        Assert.Contains(BackupStoreBuilderExtensions.BackupNowCommand, commands);
        Assert.Contains(BackupStoreBuilderExtensions.RestoreDrillCommand, commands);
    }

    [Fact]
    public async Task ThePgBackRestExporterReadsThisRunsStanzaWithTheStoresSecretsAndIsScraped()
    {
        var model = await BuildModelAsync();
        var cluster = Assert.Single(model.Resources.OfType<PatroniClusterResource>());
        var store = Assert.Single(model.Resources.OfType<BackupStoreResource>());
        var exporter = Assert.Single(model.Resources.OfType<IshChat.AppHost.Hosting.Exporters.ExporterResource>(), e => e.Name == $"{store.Name}-exporter");
        var prometheus = Assert.Single(model.Resources.OfType<IshChat.AppHost.Hosting.Prometheus.PrometheusResource>());

        var environment = await ResourceEnvironment.EvaluateAsync(exporter, services);
        var prometheusEnvironment = await ResourceEnvironment.EvaluateAsync(prometheus, services);

        Assert.Equal(BackupStoreBuilderExtensions.Stanza(cluster), environment["ISHCHAT_BACKUP_STANZA"]);
        Assert.Equal(await store.StoreKey.GetValueAsync(default), environment["ISHCHAT_BACKUP_AZURE_KEY"]);
        Assert.Equal(await store.CipherPassphrase.GetValueAsync(default), environment["ISHCHAT_BACKUP_CIPHER_PASS"]);
        Assert.False(environment.ContainsKey("ISHCHAT_BACKUP_TLS_CA_KEY"), "the exporter is no node: it needs no CA");
        Assert.Equal(exporter.ScrapeTarget, prometheusEnvironment["ISHCHAT_SCRAPE_PGBACKREST_EXPORTER"]);
    }

    [Fact]
    public async Task NodeExporterReadsTheRestoreDrillsTextfiles()
    {
        var model = await BuildModelAsync();

        var exporter = Assert.Single(model.Resources.OfType<IshChat.AppHost.Hosting.Exporters.ExporterResource>(), e => e.Name == "node-exporter");

        var mount = Assert.Single(exporter.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == MonitoringEnvironment.NodeExporterTextfileDirectory);
        Assert.True(mount.IsReadOnly);
        Assert.True(Directory.Exists(mount.Source), $"{mount.Source} does not exist");
    }

    [Fact]
    public void ADrillResultBecomesTheMetricsTheAlertsWatch()
    {
        var finished = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var passed = new RestoreDrillResult("ishchat-pg-1", finished, TimeSpan.FromSeconds(20), null, RestoreDuration: TimeSpan.FromSeconds(12.5), RecoveryGapBytes: 0);
        var failed = passed with { Finished = finished.AddDays(1), Failure = "a WAL segment is missing", RestoreDuration = null, RecoveryGapBytes = null };
        var directory = Directory.CreateTempSubdirectory("ishchat-drill-model-");
        try
        {
            var metrics = new RestoreDrillMetrics(directory.FullName);

            metrics.Record(passed);
            metrics.Record(failed);
            var text = File.ReadAllText(metrics.FilePath);

            Assert.Contains("ishchat_restore_drill_success{stanza=\"ishchat-pg-1\"} 0\n", text, StringComparison.Ordinal);
            Assert.Contains("ishchat_restore_drill_last_success_timestamp_seconds{stanza=\"ishchat-pg-1\"} 1800000000\n", text, StringComparison.Ordinal);
            Assert.Contains("ishchat_restore_drill_last_run_timestamp_seconds{stanza=\"ishchat-pg-1\"} 1800086400\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain("ishchat_restore_drill_restore_seconds", text, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(directory.FullName));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void RowCountsThatDifferAreNamedWithBothSides()
    {
        var live = new Dictionary<string, long> { ["chat.messages a"] = 10, ["chat.messages b"] = 3, ["public.log -"] = 1 };
        var restored = new Dictionary<string, long> { ["chat.messages a"] = 10, ["chat.messages b"] = 2, ["chat.devices c"] = 4 };

        var differences = RestoreDrill.Differences(live, restored);

        Assert.Equal(["chat.devices c: live no rows, restored 4", "chat.messages b: live 3, restored 2", "public.log -: live 1, restored no rows"], differences);
        Assert.Empty(RestoreDrill.Differences(live, live));
        Assert.Equal((1L << 32) + 0x3000060, RestoreDrill.ParseLsn("1/3000060"));
    }

    [Fact]
    public async Task TheStoreKeyIsValidBase64AsAzureAccountKeysAre()
    {
        var model = await BuildModelAsync();
        var store = Assert.Single(model.Resources.OfType<BackupStoreResource>());

        var key = await store.StoreKey.GetValueAsync(default);

        Assert.NotNull(key);
        Assert.True(Convert.TryFromBase64String(key, new byte[key.Length], out var bytes) && bytes >= 32, $"a {key.Length}-character key is not base64 of at least 32 bytes");
    }

    public static TheoryData<string> BackupVariables => [..
        BackupEnvironment.PatroniNode("pg-0", ["pg-0", "pg-1"], BackupRepository.LocalStore("backup-store"), "stanza").Keys
            .Concat(BackupEnvironment.PatroniNode("pg-0", ["pg-0"], new BackupRepository { Type = BackupRepositoryType.S3, Account = "id", Container = "bucket", Region = "eu-west-1" }, "stanza").Keys)
            .Concat(BackupEnvironment.PointInTimeRestore(RestoreTarget.At(DateTimeOffset.UnixEpoch), archive: false).Keys)
            .Distinct()];

    [Theory]
    [MemberData(nameof(BackupVariables))]
    public void EveryBackupVariableThePatroniNodesGetIsDocumentedBesideTheDockerfile(string variable)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryLayout.Current.ContainersDirectory, "patroni", "README.md"));

        Assert.Contains($"`{variable}`", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void ARestoreTargetTimeIsWrittenInUtcWithMicroseconds()
    {
        var target = RestoreTarget.At(new DateTimeOffset(2026, 11, 25, 13, 42, 7, 123, TimeSpan.FromHours(2)));

        Assert.Equal("time", target.Type);
        Assert.Equal("2026-11-25 11:42:07.123000+00", target.Target);
    }
}
