using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Security;

/// <summary>TLS keys are copied into containers by uid/gid: the numbers in <see cref="ClusterImage.RunsAs"/> must be the images' own.</summary>
[Trait(TestCategories.Name, TestCategories.Docker)]
public sealed class ImageUserTests
{
    [Fact(Timeout = TestTimeouts.Docker)]
    public async Task EveryImageHandedTlsFilesRunsAsTheUserItsFilesAreOwnedBy()
    {
        var layout = RepositoryLayout.Current;
        var images = ClusterImages.All.Where(i => i.RunsAs is not null).ToArray();
        await new ClusterImageBuilder(layout, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).EnsureBuiltAsync(images, default);

        foreach (var image in images)
        {
            var id = await DockerCli.ExecuteAsync(["run", "--rm", "--entrypoint", "sh", image.Reference(layout), "-c", "echo $(id -un) $(id -u) $(id -g)"]);
            Assert.Equal($"{image.RunsAs!.Name} {image.RunsAs.Uid} {image.RunsAs.Gid}", id.EnsureSucceeded().Trim());
        }
    }
}
