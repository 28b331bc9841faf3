using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Images;

/// <summary>What a node image update changes: the image behind the running reference, before and after, and the packages that differ.</summary>
public sealed record ImageSwap(string Reference, string PreviousId, string NewId, IReadOnlyList<string> PackageChanges)
{
    public override string ToString() =>
        $"{Reference}: {Short(PreviousId)} → {Short(NewId)}" +
        (PackageChanges.Count == 0 ? ", same packages" : $"; {string.Join(", ", PackageChanges.Take(12))}{(PackageChanges.Count > 12 ? $" and {PackageChanges.Count - 12} more" : "")}");

    private static string Short(string id) => id.Replace("sha256:", "", StringComparison.Ordinal)[..12];
}

/// <summary>
/// Replaces the image behind a running container's reference, so that the orchestrator's next recreate of each node (a
/// rolling update) runs the new one. An image's tag names its recipe (<c>containers/&lt;component&gt;</c>), not the package
/// versions Debian had that day: a rebuild of the same recipe from Debian's current packages (a PostgreSQL or Patroni point
/// release) is the same tag, newer content. The running containers keep their image until each is recreated.
/// <list type="bullet">
/// <item><c>&lt;reference&gt;-candidate</c>: the image to roll out; given by the operator (<c>eng/cluster.sh update-image IMAGE</c>) or,
/// when absent, built here from the same recipe with Debian's current packages.</item>
/// <item><c>&lt;reference&gt;-previous</c>: the image it replaced, kept for the way back (tag it as the candidate and update again).</item>
/// </list>
/// </summary>
public sealed class ImageReplacement(RepositoryLayout layout, ILogger logger)
{
    public static string CandidateOf(string reference) => reference + "-candidate";

    public static string PreviousOf(string reference) => reference + "-previous";

    /// <summary>The image id a reference names now, or null when the engine has no such image.</summary>
    public static async Task<string?> ImageIdAsync(string reference, CancellationToken cancellationToken = default)
    {
        var inspect = await DockerCli.ExecuteAsync(["image", "inspect", "--format", "{{.Id}}", reference], cancellationToken: cancellationToken);
        return inspect.Succeeded ? inspect.Text : null;
    }

    /// <summary>The image id a container was created from.</summary>
    public static async Task<string> ContainerImageIdAsync(string container, CancellationToken cancellationToken = default) =>
        await DockerCli.RunAsync(["container", "inspect", "--format", "{{.Image}}", container], cancellationToken);

    /// <summary>
    /// Puts the candidate (the operator's, or a fresh build of <paramref name="image"/>'s recipe) behind the running reference,
    /// keeping the old image as <c>-previous</c>. Null, and nothing changed, when there is nothing to roll out: a fresh build
    /// whose packages are all the ones already running (Debian has shipped nothing new), or a candidate that is the running image.
    /// </summary>
    public async Task<ImageSwap?> PrepareAsync(ClusterImage image, CancellationToken cancellationToken = default)
    {
        var reference = image.Reference(layout);
        var candidate = CandidateOf(reference);
        var previousId = await ImageIdAsync(reference, cancellationToken)
            ?? throw new InvalidOperationException($"{reference} is not on this engine: the cluster does not run it.");
        var given = await DockerCli.ImageExistsAsync(candidate, cancellationToken);
        if (given)
        {
            logger.LogInformation("Rolling out the image tagged {Candidate}", candidate);
        }
        else
        {
            logger.LogInformation("No {Candidate}: building {Component}'s recipe again from Debian's current packages (a few minutes)", candidate, image.Component);
            await new ClusterImageBuilder(layout, logger).BuildCandidateAsync(image, candidate, cancellationToken);
        }

        var newId = await ImageIdAsync(candidate, cancellationToken)
            ?? throw new InvalidOperationException($"{candidate} vanished while the update was prepared.");
        var changes = PackageChanges(await PackagesAsync(previousId, cancellationToken), await PackagesAsync(newId, cancellationToken));
        if (newId == previousId || (!given && changes.Count == 0))
        {
            if (newId == previousId)
            {
                logger.LogInformation("{Candidate} is the running image: nothing to roll out", candidate);
            }
            else
            {
                logger.LogInformation("Debian ships the very packages {Reference} runs: nothing to roll out", reference);
            }

            await DockerCli.ExecuteAsync(["image", "rm", candidate], cancellationToken: cancellationToken);
            return null;
        }

        await DockerCli.RunAsync(["image", "tag", previousId, PreviousOf(reference)], cancellationToken);
        await DockerCli.RunAsync(["image", "tag", newId, reference], cancellationToken);
        // Untags only: the image stays, now named by the running reference.
        await DockerCli.RunAsync(["image", "rm", candidate], cancellationToken);
        var swap = new ImageSwap(reference, previousId, newId, changes);
        logger.LogInformation("Image swapped: {Swap}; the old one stays as {Previous}", swap, PreviousOf(reference));
        return swap;
    }

    /// <summary>Every Debian package the image holds, with its version.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> PackagesAsync(string imageId, CancellationToken cancellationToken)
    {
        var listing = await DockerCli.RunAsync(
            ["run", "--rm", "--network", "none", "--entrypoint", "dpkg-query", imageId, "--show", "--showformat", "${Package} ${Version}\\n"], cancellationToken);
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
    }

    /// <summary><c>postgresql-17 17.6-1 → 17.7-1</c>, <c>+ package version</c>, <c>- package version</c>, in name order.</summary>
    public static IReadOnlyList<string> PackageChanges(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
    [
        .. before.Keys.Union(after.Keys).Order(StringComparer.Ordinal).SelectMany<string, string>(name =>
            (before.GetValueOrDefault(name), after.GetValueOrDefault(name)) switch
            {
                (null, { } added) => [$"+ {name} {added}"],
                ({ } removed, null) => [$"- {name} {removed}"],
                ({ } from, { } to) when from != to => [$"{name} {from} → {to}"],
                _ => [],
            }),
    ];
}
