namespace IshChat.Cluster.Images;

/// <summary>Where the repository's shared build material lives, found from any folder inside it.</summary>
public sealed class RepositoryLayout
{
    private const string Marker = "IshChat.sln";

    private RepositoryLayout(string root) => Root = root;

    public string Root { get; }

    public string ContainersDirectory => Path.Combine(Root, "containers");

    /// <summary>Walks up from <paramref name="startDirectory"/> to the folder holding the solution.</summary>
    public static RepositoryLayout FindFrom(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Marker)) && Directory.Exists(Path.Combine(dir.FullName, "containers")))
            {
                return new RepositoryLayout(dir.FullName);
            }
        }

        throw new InvalidOperationException($"No IshChat repository (a folder with {Marker} and containers/) above '{startDirectory}'.");
    }

    /// <summary>The repository this process was built from: test and AppHost binaries live below it.</summary>
    public static RepositoryLayout Current => current.Value;

    private static readonly Lazy<RepositoryLayout> current = new(() => FindFrom(AppContext.BaseDirectory));
}
