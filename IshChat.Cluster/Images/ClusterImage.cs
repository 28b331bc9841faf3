using System.Security.Cryptography;
using System.Text;

namespace IshChat.Cluster.Images;

/// <summary>
/// A container image built from one folder under <c>containers/</c>. Its tag is a hash of
/// that folder's files (its Markdown aside) and of the tag of the image it is built on, so an
/// edited Dockerfile, template or package list yields a new image and an unchanged one is never rebuilt.
/// </summary>
/// <param name="Component">The folder under <c>containers/</c>, and the repository's name.</param>
/// <param name="BuiltOn">
/// The local image its Dockerfile starts FROM, passed as <c>--build-arg PACKAGES_IMAGE=</c>; <see langword="null"/>
/// for an image FROM <see cref="BaseImage"/>.
/// </param>
public sealed record ClusterImage(string Component, ClusterImage? BuiltOn = null)
{
    public const string DefaultNamespace = "ishchat";

    /// <summary>The build argument naming <see cref="BuiltOn"/> in a component's Dockerfile.</summary>
    public const string BuiltOnArgument = "PACKAGES_IMAGE";

    /// <summary>
    /// <c>ishchat</c>, or <c>ISHCHAT_IMAGE_NAMESPACE</c> when set: a separate namespace builds every image from
    /// scratch beside the everyday ones (how docs/first-run.md measures a cold build without deleting anyone's images).
    /// </summary>
    public static string Namespace { get; } =
        Environment.GetEnvironmentVariable("ISHCHAT_IMAGE_NAMESPACE") is { Length: > 0 } custom ? custom : DefaultNamespace;

    /// <summary>The local base every image is built FROM; made by <c>eng/setup.sh</c>.</summary>
    public const string BaseImage = "ishchat/debian-trixie:base";

    public const string ComponentLabel = "io.ishchat.component";

    public string Repository => $"{Namespace}/{Component}";

    /// <summary>The user its containers run as, for images that are handed files of their own (TLS keys); else null.</summary>
    public ContainerUser? RunsAs { get; init; }

    public string ContextDirectory(RepositoryLayout layout) => Path.Combine(layout.ContainersDirectory, Component);

    public string Tag(RepositoryLayout layout) => ComputeContentTag(ContextDirectory(layout), BuiltOn?.Reference(layout));

    public string Reference(RepositoryLayout layout) => $"{Repository}:{Tag(layout)}";

    /// <summary>Whether <paramref name="reference"/> is one of this image's content-hash tags (<c>repository:c0123456789ab</c>).</summary>
    public static bool IsContentTag(string reference, ClusterImage image) =>
        reference.StartsWith(image.Repository + ":c", StringComparison.Ordinal)
        && reference.Length == image.Repository.Length + 14
        && reference[(image.Repository.Length + 2)..].All(char.IsAsciiHexDigitLower);

    /// <summary>What <c>docker build</c> needs besides the context: the reference of the image this one starts FROM.</summary>
    public IReadOnlyList<string> BuildArguments(RepositoryLayout layout) =>
        BuiltOn is null ? [] : ["--build-arg", $"{BuiltOnArgument}={BuiltOn.Reference(layout)}"];

    private static string ComputeContentTag(string directory, string? builtOn)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The build context '{directory}' does not exist.");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A new package layer must rebuild the images on it, though their own files are unchanged.
        if (builtOn is not null)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(builtOn));
            hash.AppendData([0]);
        }

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
