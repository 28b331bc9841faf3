using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ClusterImageTests
{
    [Fact]
    public void EveryImageHasABuildContextWithADockerfileFromTheLocalBaseOrThePackageLayer()
    {
        var layout = RepositoryLayout.Current;

        Assert.All([ClusterImages.Packages, .. ClusterImages.All], image =>
        {
            var dockerfile = Path.Combine(image.ContextDirectory(layout), "Dockerfile");
            Assert.True(File.Exists(dockerfile), $"{dockerfile} is missing");
            var from = image.BuiltOn is null ? $"FROM {ClusterImage.BaseImage}" : $"FROM ${{{ClusterImage.BuiltOnArgument}}}";
            Assert.Contains(from, File.ReadAllText(dockerfile));
        });
    }

    [Fact]
    public void EveryPackageAnImageChecksForIsInstalledByThePackageLayer()
    {
        var layout = RepositoryLayout.Current;
        var packageLayer = File.ReadAllText(Path.Combine(ClusterImages.Packages.ContextDirectory(layout), "Dockerfile"));
        var installed = packageLayer[packageLayer.IndexOf("apt-get install", StringComparison.Ordinal)..]
            .Split([' ', '\\', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet();

        var missing = ClusterImages.All
            .SelectMany(image => PackagesCheckedBy(File.ReadAllText(Path.Combine(image.ContextDirectory(layout), "Dockerfile"))).Select(p => $"{p} ({image.Component})"))
            .Where(p => !installed.Contains(p.Split(' ')[0]))
            .ToList();

        Assert.True(missing.Count == 0, $"containers/packages/Dockerfile does not install {string.Join(", ", missing)}");
    }

    [Fact]
    public void TagFollowsThePackageLayersTag()
    {
        var root = Directory.CreateTempSubdirectory("ishchat-tag-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "IshChat.sln"), "");
            var packages = Directory.CreateDirectory(Path.Combine(root.FullName, "containers", "packages"));
            File.WriteAllText(Path.Combine(packages.FullName, "Dockerfile"), "FROM ishchat/debian-trixie:base\n");
            var context = Directory.CreateDirectory(Path.Combine(root.FullName, "containers", "demo"));
            File.WriteAllText(Path.Combine(context.FullName, "Dockerfile"), "ARG PACKAGES_IMAGE\nFROM ${PACKAGES_IMAGE}\n");
            var layout = RepositoryLayout.FindFrom(context.FullName);
            var image = new ClusterImage("demo", new ClusterImage("packages"));

            var before = image.Tag(layout);
            File.AppendAllText(Path.Combine(packages.FullName, "Dockerfile"), "RUN apt-get install -y tini\n");
            var after = image.Tag(layout);

            Assert.NotEqual(before, after);
            Assert.Equal(["--build-arg", $"PACKAGES_IMAGE={image.BuiltOn!.Reference(layout)}"], image.BuildArguments(layout));
        }
        finally
        {
            root.Delete(recursive: true);
        }
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

    // Each component names the packages it needs on a `dpkg -s a b c >/dev/null` line.
    private static IEnumerable<string> PackagesCheckedBy(string dockerfile) =>
        dockerfile.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("dpkg -s ", StringComparison.Ordinal))
            .SelectMany(line => line["dpkg -s ".Length..line.IndexOf(" >", StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
