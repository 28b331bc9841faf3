using IshChat.AppHost.Hosting.BackupStore;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.Tests.AppHostModel;

/// <summary>Which data outlives the AppHost, on which volumes, and what that means for the backups' stanza (no Docker).</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class DataVolumeModelTests : IAsyncDisposable
{
    private DistributedApplication? app;

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
            app = null;
        }
    }

    private async Task<DistributedApplicationModel> BuildModelAsync(params string[] arguments)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(["--IshChat:ModelOnly=true", .. arguments]);
        app = await builder.BuildAsync();
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }

    private static ContainerMountAnnotation SingleVolume(IResource resource) =>
        Assert.Single(resource.Annotations.OfType<ContainerMountAnnotation>(), m => m.Type == ContainerMountType.Volume);

    [Fact]
    public async Task EveryPatroniNodeAndEtcdMemberKeepsItsDataOnANamedVolumeOfItsOwn()
    {
        var model = await BuildModelAsync();

        var nodes = Assert.Single(model.Resources.OfType<PatroniClusterResource>()).Nodes;
        var members = Assert.Single(model.Resources.OfType<EtcdClusterResource>()).Members;
        Assert.All(nodes, node =>
        {
            var volume = SingleVolume(node);
            Assert.Equal($"ishchat-{node.Name}-data", volume.Source);
            // The data dir's parent: Patroni removes and renames the data dir itself, which a mount point cannot be.
            Assert.Equal("/var/lib/postgresql", volume.Target);
        });
        Assert.All(members, member =>
        {
            var volume = SingleVolume(member);
            Assert.Equal($"ishchat-{member.Name}-data", volume.Source);
            Assert.Equal("/var/lib/etcd", volume.Target);
        });
        Assert.Equal(nodes.Count + members.Count + 1, model.Resources.SelectMany(r => r.Annotations.OfType<ContainerMountAnnotation>())
            .Where(m => m.Type == ContainerMountType.Volume).Select(m => m.Source).Distinct().Count());
    }

    [Fact]
    public async Task AVolumePrefixGivesARunAVolumeSetOfItsOwnSoTestsNeverStartFromADevelopersData()
    {
        var model = await BuildModelAsync($"--{DataVolumes.PrefixKey}=ishchat-test-1a2b3c4d");

        var volumes = model.Resources.SelectMany(r => r.Annotations.OfType<ContainerMountAnnotation>()).Where(m => m.Type == ContainerMountType.Volume).ToList();
        Assert.Equal(6 + 3 + 1, volumes.Count); // four Patroni nodes and two spares, three etcd members, the backup store
        Assert.All(volumes, v => Assert.StartsWith("ishchat-test-1a2b3c4d-", v.Source, StringComparison.Ordinal));
        Assert.Contains(volumes, v => v.Source == "ishchat-test-1a2b3c4d-backup-store-data");
    }

    [Fact]
    public async Task AVolumePrefixDockerWouldRefuseIsRejectedNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => BuildModelAsync($"--{DataVolumes.PrefixKey}=-no/slashes"));

        Assert.Contains(DataVolumes.PrefixKey, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBackupStanzaIsTheClustersOwnInEveryRunAndARestoreContinuesItUnlessToldOtherwise()
    {
        var cluster = Assert.Single((await BuildModelAsync()).Resources.OfType<PatroniClusterResource>());
        Assert.Equal("ishchat-pg", BackupStoreBuilderExtensions.Stanza(cluster));
        await DisposeAsync();

        var restored = Assert.Single((await BuildModelAsync("--IshChat:Restore:Type=latest")).Resources.OfType<PatroniClusterResource>());
        Assert.Equal("ishchat-pg", BackupStoreBuilderExtensions.Stanza(restored));
    }
}
