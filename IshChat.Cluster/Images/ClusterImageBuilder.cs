using System.Diagnostics;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Images;

/// <summary>
/// Builds the cluster's images with the local Docker engine, only those whose content tag is
/// missing, and removes the superseded tags of each repository so rebuilds don't fill the disk.
/// Never pulls: every Dockerfile starts FROM the local <see cref="ClusterImage.BaseImage"/>.
/// Progress (building, built in N s) goes to <paramref name="logger"/>; docker's own output to
/// <paramref name="buildOutput"/> when given (a resource's console on the dashboard), else to the logger.
/// </summary>
public sealed class ClusterImageBuilder(RepositoryLayout layout, ILogger logger, Action<string>? buildOutput = null)
{
    // Both the AppHost and several test fixtures may ask at once; one build at a time is plenty on 2 cores.
    private static readonly SemaphoreSlim buildGate = new(1, 1);

    public async Task EnsureBuiltAsync(IEnumerable<ClusterImage> images, CancellationToken cancellationToken = default)
    {
        await buildGate.WaitAsync(cancellationToken);
        try
        {
            if (!await DockerCli.ImageExistsAsync(ClusterImage.BaseImage, cancellationToken))
            {
                throw new InvalidOperationException(
                    $"The base image '{ClusterImage.BaseImage}' is missing. Run eng/setup.sh once: it makes it with debootstrap, no registry needed.");
            }

            foreach (var image in images.Distinct())
            {
                await EnsureBuiltAsync(image, cancellationToken);
            }
        }
        finally
        {
            buildGate.Release();
        }
    }

    private async Task EnsureBuiltAsync(ClusterImage image, CancellationToken cancellationToken)
    {
        var reference = image.Reference(layout);
        if (await DockerCli.ImageExistsAsync(reference, cancellationToken))
        {
            logger.LogDebug("Image {Image} is up to date", reference);
            return;
        }

        logger.LogInformation("Building image {Image} from {Context}", reference, image.ContextDirectory(layout));
        var stopwatch = Stopwatch.StartNew();
        // A cold build downloads packages and may take minutes: no time-out, the caller's token decides.
        var build = await DockerCli.ExecuteAsync(
            ["build", "--progress=plain", "--pull=false", "--label", $"{ClusterImage.ComponentLabel}={image.Component}",
             "-t", reference, image.ContextDirectory(layout)],
            line =>
            {
                if (buildOutput is null)
                {
                    logger.LogInformation("[{Component} build] {Line}", image.Component, line);
                }
                else
                {
                    buildOutput(line);
                }
            },
            Timeout.InfiniteTimeSpan, logger, cancellationToken);
        if (!build.Succeeded)
        {
            throw new InvalidOperationException($"docker build of {reference} failed (exit {build.ExitCode}):{Environment.NewLine}{Tail(build.Output)}");
        }

        logger.LogInformation("Built {Image} in {Seconds:F0} s", reference, stopwatch.Elapsed.TotalSeconds);
        await RemoveSupersededTagsAsync(image, reference, cancellationToken);
    }

    private async Task RemoveSupersededTagsAsync(ClusterImage image, string current, CancellationToken cancellationToken)
    {
        var listing = (await DockerCli.ExecuteAsync(["image", "ls", image.Repository, "--format", "{{.Repository}}:{{.Tag}}"], cancellationToken: cancellationToken)).Output;
        // Only content tags are ours to remove; a hand-made tag such as ":dev" is left alone.
        foreach (var old in listing.Where(r => r != current && ClusterImage.IsContentTag(r, image)))
        {
            // An image still used by a running container refuses removal; that's fine, it goes next time.
            if ((await DockerCli.ExecuteAsync(["image", "rm", old], cancellationToken: cancellationToken)).Succeeded)
            {
                logger.LogInformation("Removed superseded image {Image}", old);
            }
        }

        await DockerCli.ExecuteAsync(["image", "prune", "--force", "--filter", $"label={ClusterImage.ComponentLabel}={image.Component}"], cancellationToken: cancellationToken);
    }

    private static string Tail(IReadOnlyList<string> lines) => string.Join(Environment.NewLine, lines.TakeLast(30));
}
