using System.Collections.Concurrent;
using System.Diagnostics;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Images;

/// <summary>
/// Builds the cluster's images with the local Docker engine, only those whose content tag is
/// missing, several at once, each after the image it is built on; and removes the superseded
/// tags of each repository so rebuilds don't fill the disk. Never pulls: every image starts
/// FROM the local <see cref="ClusterImage.BaseImage"/>, directly or through <see cref="ClusterImages.Packages"/>.
/// Progress (building, built in N s) goes to <paramref name="logger"/>; docker's own output to
/// <paramref name="buildOutput"/> when given (the consoles of the resources using that image), else to the logger.
/// </summary>
public sealed class ClusterImageBuilder(RepositoryLayout layout, ILogger logger, Action<ClusterImage, string>? buildOutput = null)
{
    /// <summary>
    /// How many <c>docker build</c>s one process runs at once (<c>ISHCHAT_IMAGE_BUILDS</c> overrides). With the
    /// package layer built first, the component builds only copy files and create users: measured on 2 cores, all
    /// of them at once finish soonest (docs/first-run.md).
    /// </summary>
    public static int MaxParallelBuilds { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("ISHCHAT_IMAGE_BUILDS"), out var configured) && configured > 0 ? configured : 6;

    // ISHCHAT_IMAGE_NO_CACHE=1 with a fresh ISHCHAT_IMAGE_NAMESPACE measures a fresh machine's builds
    // (docs/first-run.md): BuildKit's layer cache would otherwise answer from the everyday images' layers.
    private static readonly string[] cacheArguments = Environment.GetEnvironmentVariable("ISHCHAT_IMAGE_NO_CACHE") == "1" ? ["--no-cache"] : [];

    private static readonly SemaphoreSlim buildSlots = new(MaxParallelBuilds, MaxParallelBuilds);

    // The AppHost's early build and a container's wait, or two test fixtures, share one build of a reference.
    private static readonly ConcurrentDictionary<string, Lazy<Task>> buildsInFlight = new(StringComparer.Ordinal);

    /// <summary>Builds whichever of <paramref name="images"/> (and the images they are built on) are missing, concurrently.</summary>
    public async Task EnsureBuiltAsync(IEnumerable<ClusterImage> images, CancellationToken cancellationToken = default)
    {
        if (!await DockerCli.ImageExistsAsync(ClusterImage.BaseImage, cancellationToken))
        {
            throw new InvalidOperationException(
                $"The base image '{ClusterImage.BaseImage}' is missing. Run eng/setup.sh once: it makes it with debootstrap, no registry needed.");
        }

        await Task.WhenAll(images.Distinct().Select(image => EnsureBuiltAsync(image, cancellationToken)));
    }

    private async Task EnsureBuiltAsync(ClusterImage image, CancellationToken cancellationToken)
    {
        var reference = image.Reference(layout);
        if (await DockerCli.ImageExistsAsync(reference, cancellationToken))
        {
            logger.LogDebug("Image {Image} is up to date", reference);
            return;
        }

        if (image.BuiltOn is { } builtOn)
        {
            await EnsureBuiltAsync(builtOn, cancellationToken);
        }

        // The build itself is not cancelled with one caller: another may be waiting for the same image.
        var build = buildsInFlight.GetOrAdd(reference, _ => new Lazy<Task>(() => BuildAsync(image, reference, [.. cacheArguments, .. image.BuildArguments(layout)])));
        try
        {
            await build.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            // Only in-flight builds are shared: a later call checks the engine again, so a failed build is retried.
            if (build.Value.IsCompleted)
            {
                buildsInFlight.TryRemove(new KeyValuePair<string, Lazy<Task>>(reference, build));
            }
        }
    }

    // A build step that downloads from a package registry over TLS (npm, for the backup store) must trust what the
    // host trusts: behind an intercepting proxy that is a CA the base image lacks. The host's bundle is mounted for
    // the steps that ask for it (RUN --mount=type=secret,id=ca-bundle) and never lands in a layer.
    private const string HostCaBundle = "/etc/ssl/certs/ca-certificates.crt";

    private static string[] HostCaBundleSecret => File.Exists(HostCaBundle) ? ["--secret", $"id=ca-bundle,src={HostCaBundle}"] : [];

    /// <summary>
    /// Builds <paramref name="image"/>'s recipe again as <paramref name="candidate"/>, from Debian's current packages: the package
    /// layer it is built on without BuildKit's cache (a fresh <c>apt-get update</c>), under a candidate tag of its own that is
    /// removed afterwards. The everyday tags are not touched (<see cref="ImageReplacement"/> decides what to do with the candidate).
    /// </summary>
    public async Task BuildCandidateAsync(ClusterImage image, string candidate, CancellationToken cancellationToken = default)
    {
        await EnsureBuiltAsync([image], cancellationToken);
        if (image.BuiltOn is not { } builtOn)
        {
            await BuildAsync(image, candidate, ["--no-cache"]);
            return;
        }

        var freshLayer = ImageReplacement.CandidateOf(builtOn.Reference(layout));
        // One left by a run that stopped half-way would be taken as built.
        await DockerCli.ExecuteAsync(["image", "rm", freshLayer], cancellationToken: cancellationToken);
        await BuildAsync(builtOn, freshLayer, ["--no-cache", .. builtOn.BuildArguments(layout)]);
        try
        {
            await BuildAsync(image, candidate, ["--build-arg", $"{ClusterImage.BuiltOnArgument}={freshLayer}"]);
        }
        finally
        {
            // Untags the fresh package layer; the candidate holds on to the layers it needs.
            await DockerCli.ExecuteAsync(["image", "rm", freshLayer], cancellationToken: CancellationToken.None);
        }
    }

    private async Task BuildAsync(ClusterImage image, string reference, IReadOnlyList<string> buildArguments)
    {
        await buildSlots.WaitAsync();
        try
        {
            // It may have been finished by a build that left the in-flight table just before this one entered it.
            if (await DockerCli.ImageExistsAsync(reference))
            {
                return;
            }

            logger.LogInformation("Building image {Image} from {Context}", reference, image.ContextDirectory(layout));
            var stopwatch = Stopwatch.StartNew();
            // A cold build downloads packages and may take minutes: no time-out.
            var build = await DockerCli.ExecuteAsync(
                ["build", "--progress=plain", "--pull=false", "--label", $"{ClusterImage.ComponentLabel}={image.Component}",
                 .. buildArguments, .. HostCaBundleSecret, "-t", reference, image.ContextDirectory(layout)],
                line =>
                {
                    if (buildOutput is null)
                    {
                        logger.LogInformation("[{Component} build] {Line}", image.Component, line);
                    }
                    else
                    {
                        buildOutput(image, line);
                    }
                },
                Timeout.InfiniteTimeSpan, logger, CancellationToken.None);
            if (!build.Succeeded)
            {
                throw new InvalidOperationException($"docker build of {reference} failed (exit {build.ExitCode}):{Environment.NewLine}{Tail(build.Output)}");
            }

            logger.LogInformation("Built {Image} in {Seconds:F0} s", reference, stopwatch.Elapsed.TotalSeconds);
        }
        finally
        {
            buildSlots.Release();
        }

        if (ClusterImage.IsContentTag(reference, image))
        {
            await RemoveSupersededTagsAsync(image, reference);
        }
    }

    private async Task RemoveSupersededTagsAsync(ClusterImage image, string current)
    {
        // Several checkouts of the repository (git worktrees) share one engine and build different
        // content tags of the same image; each would delete the others' and force rebuilds.
        if (Environment.GetEnvironmentVariable(KeepSupersededImagesVariable) is "1" or "true")
        {
            return;
        }

        var listing = (await DockerCli.ExecuteAsync(["image", "ls", image.Repository, "--format", "{{.Repository}}:{{.Tag}}"])).Output;
        // Only content tags are ours to remove; a hand-made tag such as ":dev" is left alone.
        foreach (var old in listing.Where(r => r != current && ClusterImage.IsContentTag(r, image)))
        {
            // An image still used by a running container refuses removal; that's fine, it goes next time.
            if ((await DockerCli.ExecuteAsync(["image", "rm", old])).Succeeded)
            {
                logger.LogInformation("Removed superseded image {Image}", old);
            }
        }

        await DockerCli.ExecuteAsync(["image", "prune", "--force", "--filter", $"label={ClusterImage.ComponentLabel}={image.Component}"]);
    }

    /// <summary>Set to 1 to keep superseded content tags (several checkouts sharing one engine).</summary>
    public const string KeepSupersededImagesVariable = "ISHCHAT_KEEP_SUPERSEDED_IMAGES";

    private static string Tail(IReadOnlyList<string> lines) => string.Join(Environment.NewLine, lines.TakeLast(30));
}
