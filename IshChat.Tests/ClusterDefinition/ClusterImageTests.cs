using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ClusterImageTests
{
    [Fact]
    public void EveryImageHasABuildContextWithADockerfileFromTheLocalBase()
    {
        var layout = RepositoryLayout.Current;

        Assert.All(ClusterImages.All, image =>
        {
            var dockerfile = Path.Combine(image.ContextDirectory(layout), "Dockerfile");
            Assert.True(File.Exists(dockerfile), $"{dockerfile} is missing");
            Assert.Contains($"FROM {ClusterImage.BaseImage}", File.ReadAllText(dockerfile));
        });
    }

    [Fact]
    public void TagFollowsTheBuildContextsContent()
    {
        var root = Directory.CreateTempSubdirectory("ishchat-tag-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "IshChat.sln"), "");
            var context = Directory.CreateDirectory(Path.Combine(root.FullName, "containers", "demo"));
            File.WriteAllText(Path.Combine(context.FullName, "Dockerfile"), "FROM ishchat/debian-trixie:base\n");
            var layout = RepositoryLayout.FindFrom(context.FullName);
            var image = new ClusterImage("demo");

            var before = image.Tag(layout);
            var unchanged = image.Tag(layout);
            File.AppendAllText(Path.Combine(context.FullName, "Dockerfile"), "RUN true\n");
            var after = image.Tag(layout);

            Assert.Equal(before, unchanged);
            Assert.NotEqual(before, after);
            Assert.Matches("^c[0-9a-f]{12}$", after);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
