using System.Text.RegularExpressions;
using IshChat.Cluster.Backup;
using IshChat.Tests.Infrastructure;
using Jobs = IshChat.Cluster.Configuration.MonitoringEnvironment.Jobs;

namespace IshChat.Tests.ClusterDefinition;

/// <summary>
/// Each image's contract lives next to its Dockerfile (containers/&lt;name&gt;/README.md). These tests keep it true:
/// every variable the shared definition passes, and every <c>ISHCHAT_*</c> variable the image's own scripts read, is
/// documented there, so neither side can change without the other.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed partial class ImageContractTests
{
    /// <summary>What the AppHost and the test cluster pass each image, from the one definition.</summary>
    public static TheoryData<string> Images => [.. ClusterImages.All.Select(i => i.Component)];

    private static IReadOnlyDictionary<string, EnvironmentValue> DefinedEnvironment(string component) => component switch
    {
        "etcd" => ComponentEnvironment.EtcdMember("etcd-0", ["etcd-0", "etcd-1"], "token"),
        "patroni" => ComponentEnvironment.PatroniNode("pg-0", "scope", ["etcd-0"], new PatroniSettings()),
        "haproxy" => ComponentEnvironment.HAProxy(["pg-0", "pg-1"]),
        "pgbouncer" => ComponentEnvironment.PgBouncer(["haproxy-0", "haproxy-1"], new PgBouncerSettings()),
        "prometheus" => MonitoringEnvironment.Prometheus(
            new[] { Jobs.Patroni, Jobs.Postgres, Jobs.Etcd, Jobs.HAProxy, Jobs.PgBouncer, Jobs.Redis, Jobs.Node, Jobs.PgBackRest, Jobs.Prometheus, Jobs.Alertmanager }
                .ToDictionary(j => j, j => (IReadOnlyList<string>)[$"{j}:1"]),
            "postgres-exporter:9187", "alertmanager:9093", TimeSpan.FromSeconds(5)),
        "alertmanager" => MonitoringEnvironment.Alertmanager(TimeSpan.FromSeconds(5)),
        "postgres-exporter" => MonitoringEnvironment.PostgresExporter(),
        "pgbouncer-exporter" => MonitoringEnvironment.PgBouncerExporter("pgbouncer"),
        "backup-store" => BackupEnvironment.Store("backup-store").ToDictionary(e => e.Key, e => (EnvironmentValue)e.Value.ToString()),
        "pgbackrest-exporter" => BackupEnvironment.Standalone(BackupRepository.LocalStore("backup-store"), "stanza")
            .ToDictionary(e => e.Key, e => (EnvironmentValue)e.Value.ToString()),
        // Configured through Aspire's own Redis resource or by command line, not by our definition.
        "redis" or "redis-exporter" or "node-exporter" => new Dictionary<string, EnvironmentValue>(),
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, "An image with no known contract: add it here."),
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void EveryVariableTheDefinitionPassesIsDocumentedBesideTheDockerfile(string component)
    {
        var readme = ReadmeOf(component);

        var undocumented = DefinedEnvironment(component).Keys.Where(name => !readme.Contains($"`{name}`", StringComparison.Ordinal)).ToList();

        Assert.True(undocumented.Count == 0, $"containers/{component}/README.md does not document {string.Join(", ", undocumented)}");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void EveryIshChatVariableTheImageReadsIsDocumentedBesideTheDockerfile(string component)
    {
        var readme = ReadmeOf(component);
        var context = ClusterImages.All.Single(i => i.Component == component).ContextDirectory(RepositoryLayout.Current);
        var read = Directory.EnumerateFiles(context, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("README.md", StringComparison.Ordinal))
            .SelectMany(f => IshChatVariable().Matches(File.ReadAllText(f)).Select(m => m.Value))
            .ToHashSet();

        var undocumented = read.Where(name => !readme.Contains(name, StringComparison.Ordinal)).Order().ToList();

        Assert.True(undocumented.Count == 0, $"containers/{component}/README.md does not mention {string.Join(", ", undocumented)}, read by its scripts");
    }

    [Fact]
    public void EveryImageIsListedInTheContainersIndex()
    {
        var index = File.ReadAllText(Path.Combine(RepositoryLayout.Current.ContainersDirectory, "README.md"));

        Assert.All(ClusterImages.All, image => Assert.Contains($"({image.Component}/README.md)", index));
    }

    private static string ReadmeOf(string component)
    {
        var path = Path.Combine(RepositoryLayout.Current.ContainersDirectory, component, "README.md");
        Assert.True(File.Exists(path), $"{path} is missing: every image's contract lives beside its Dockerfile.");
        return File.ReadAllText(path);
    }

    [GeneratedRegex(@"\bISHCHAT_[A-Z0-9_]*[A-Z0-9]\b")]
    private static partial Regex IshChatVariable();
}
