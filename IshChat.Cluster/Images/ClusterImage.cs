using System.Security.Cryptography;
using System.Text;

namespace IshChat.Cluster.Images;

/// <summary>
/// A container image built from one folder under <c>containers/</c>. Its tag is a hash of
/// that folder's files (its Markdown aside), so an edited Dockerfile or template yields a new
/// image and an unchanged one is never rebuilt.
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
        // Documentation is not built into the image: editing an image's README must not rebuild it.
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                     .Where(f => !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
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
