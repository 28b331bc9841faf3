using System.Security.Cryptography;
using System.Text;

namespace IshChat.Cluster;

/// <summary>
/// A container image built from one folder under <c>containers/</c>. Its tag is a hash of
/// that folder's files, so an edited Dockerfile or template yields a new image and an
/// unchanged one is never rebuilt.
/// </summary>
public sealed record ClusterImage(string Component)
{
    public const string Namespace = "ishchat";

    /// <summary>The local base every image is built FROM; made by <c>eng/setup.sh</c>.</summary>
    public const string BaseImage = "ishchat/debian-trixie:base";

    public const string ComponentLabel = "io.ishchat.component";

    public string Repository => $"{Namespace}/{Component}";

    public string ContextDirectory(RepositoryLayout layout) => Path.Combine(layout.ContainersDirectory, Component);

    public string Tag(RepositoryLayout layout) => ComputeContentTag(ContextDirectory(layout));

    public string Reference(RepositoryLayout layout) => $"{Repository}:{Tag(layout)}";

    /// <summary>Whether <paramref name="reference"/> is one of this image's content-hash tags (<c>repository:c0123456789ab</c>).</summary>
    public static bool IsContentTag(string reference, ClusterImage image) =>
        reference.StartsWith(image.Repository + ":c", StringComparison.Ordinal)
        && reference.Length == image.Repository.Length + 14
        && reference[(image.Repository.Length + 2)..].All(char.IsAsciiHexDigitLower);

    private static string ComputeContentTag(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The build context '{directory}' does not exist.");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
                     .Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file));
            hash.AppendData([0]);
            // Normalise line endings so a Windows checkout builds the same tag.
            var content = File.ReadAllText(Path.Combine(directory, file)).ReplaceLineEndings("\n");
            hash.AppendData(Encoding.UTF8.GetBytes(content));
            hash.AppendData([0]);
        }

        return "c" + Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}

/// <summary>The images of the cluster, one per folder under <c>containers/</c>.</summary>
public static class ClusterImages
{
    public static ClusterImage Etcd { get; } = new("etcd");
    public static ClusterImage Patroni { get; } = new("patroni");
    public static ClusterImage HAProxy { get; } = new("haproxy");
    public static ClusterImage PgBouncer { get; } = new("pgbouncer");
    public static ClusterImage Redis { get; } = new("redis");

    // Monitoring (Grafana is the official image, not built here: see containers/grafana/README.md).
    public static ClusterImage Prometheus { get; } = new("prometheus");
    public static ClusterImage Alertmanager { get; } = new("alertmanager");
    public static ClusterImage PostgresExporter { get; } = new("postgres-exporter");
    public static ClusterImage PgBouncerExporter { get; } = new("pgbouncer-exporter");
    public static ClusterImage RedisExporter { get; } = new("redis-exporter");
    public static ClusterImage NodeExporter { get; } = new("node-exporter");

    public static IReadOnlyList<ClusterImage> All { get; } =
        [Etcd, Patroni, HAProxy, PgBouncer, Redis, Prometheus, Alertmanager, PostgresExporter, PgBouncerExporter, RedisExporter, NodeExporter];
}
