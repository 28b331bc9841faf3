using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster;

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
            if (!await ImageExistsAsync(ClusterImage.BaseImage, cancellationToken))
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
        if (await ImageExistsAsync(reference, cancellationToken))
        {
            logger.LogDebug("Image {Image} is up to date", reference);
            return;
        }

        logger.LogInformation("Building image {Image} from {Context}", reference, image.ContextDirectory(layout));
        var stopwatch = Stopwatch.StartNew();
        var (exitCode, output) = await DockerAsync(
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
            cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"docker build of {reference} failed (exit {exitCode}):{Environment.NewLine}{Tail(output)}");
        }

        logger.LogInformation("Built {Image} in {Seconds:F0} s", reference, stopwatch.Elapsed.TotalSeconds);
        await RemoveSupersededTagsAsync(image, reference, cancellationToken);
    }

    private async Task RemoveSupersededTagsAsync(ClusterImage image, string current, CancellationToken cancellationToken)
    {
        var (_, listing) = await DockerAsync(["image", "ls", image.Repository, "--format", "{{.Repository}}:{{.Tag}}"], null, cancellationToken);
        // Only content tags are ours to remove; a hand-made tag such as ":dev" is left alone.
        foreach (var old in listing.Where(r => r != current && ClusterImage.IsContentTag(r, image)))
        {
            // An image still used by a running container refuses removal; that's fine, it goes next time.
            var (exitCode, _) = await DockerAsync(["image", "rm", old], null, cancellationToken);
            if (exitCode == 0)
            {
                logger.LogInformation("Removed superseded image {Image}", old);
            }
        }

        await DockerAsync(["image", "prune", "--force", "--filter", $"label={ClusterImage.ComponentLabel}={image.Component}"], null, cancellationToken);
    }

    private static async Task<bool> ImageExistsAsync(string reference, CancellationToken cancellationToken)
    {
        var (exitCode, _) = await DockerAsync(["image", "inspect", "--format", "{{.Id}}", reference], null, cancellationToken);
        return exitCode == 0;
    }

    private static string Tail(List<string> lines) => string.Join(Environment.NewLine, lines.TakeLast(30));

    internal static async Task<(int ExitCode, List<string> Output)> DockerAsync(
        IEnumerable<string> arguments, Action<string>? onLine, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        var output = new List<string>();
        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
            }

            onLine?.Invoke(line);
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("The docker client was not found. Run eng/setup.sh first.", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, output);
    }
}
