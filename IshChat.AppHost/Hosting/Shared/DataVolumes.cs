using System.Globalization;
using System.Runtime.CompilerServices;
using IshChat.Cluster.Docker;
using Microsoft.Extensions.Configuration;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// Named Docker volumes for the containers whose data must outlive the AppHost (Patroni nodes, etcd members, the
/// backup store): Ctrl+C removes the containers, the volumes stay, and the next run picks the data up again. Each
/// volume is named <c>&lt;prefix&gt;-&lt;resource&gt;-data</c> (<c>ishchat-pg-0-data</c>) and created before its container
/// with the labels <see cref="SetLabel"/> and <see cref="ResourceLabel"/>, which is how <c>eng/down.sh --volumes</c> and
/// the tests find the project's volumes, and only those. A test run sets its own <see cref="PrefixKey"/> so it never
/// starts from a developer's data, and removes its set afterwards (<see cref="RemoveSetAsync"/>).
/// </summary>
public static class DataVolumes
{
    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, VolumeSet> sets = [];

    /// <summary>Configuration key of the volume names' prefix (a volume set); <see cref="DefaultPrefix"/> when unset.</summary>
    public const string PrefixKey = "IshChat:Volumes:Prefix";

    public const string DefaultPrefix = "ishchat";

    /// <summary>Label naming the volume set (the prefix) a volume belongs to.</summary>
    public const string SetLabel = "io.ishchat.volume-set";

    /// <summary>Label naming the resource whose data a volume holds.</summary>
    public const string ResourceLabel = "io.ishchat.volume-of";

    /// <summary>
    /// Label saying what a volume holds (<see cref="DataVolumeKind"/>, lower case): <c>eng/down.sh --cluster-volumes</c>
    /// removes the cluster's and keeps the backups, which a restore into a new cluster needs.
    /// </summary>
    public const string KindLabel = "io.ishchat.volume-holds";

    /// <summary>The volume prefix this application uses.</summary>
    public static string Prefix(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var prefix = configuration[PrefixKey] is { Length: > 0 } configured ? configured : DefaultPrefix;
        // Docker's own rule for volume names, checked here so a bad prefix fails at once and says which setting.
        return prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && char.IsAsciiLetterOrDigit(prefix[0])
            ? prefix
            : throw new InvalidOperationException($"{PrefixKey} '{prefix}' is not a valid Docker volume name prefix: letters, digits, '-', '_', '.', starting with a letter or digit.");
    }

    /// <summary>The volume holding <paramref name="resourceName"/>'s data in the set <paramref name="prefix"/>.</summary>
    public static string Name(string prefix, string resourceName) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{resourceName}-data");

    /// <summary>
    /// Mounts the resource's own named volume at <paramref name="target"/>, created (labelled) just before the
    /// application starts. Mount the directory that holds the data directory, not the data directory itself: Patroni
    /// removes and renames its data directory (reinit, a failed bootstrap), which a mount point cannot be.
    /// </summary>
    public static IResourceBuilder<T> WithDataVolume<T>(this IResourceBuilder<T> builder, string target, DataVolumeKind kind) where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(target);
        var prefix = Prefix(builder.ApplicationBuilder.Configuration);
        var volume = Name(prefix, builder.Resource.Name);
        sets.GetValue(builder.ApplicationBuilder, applicationBuilder => new VolumeSet(applicationBuilder, prefix))
            .Volumes.Add((volume, builder.Resource.Name, kind));
        return builder.WithVolume(volume, target);
    }

    /// <summary>
    /// Makes the application refuse to start while any <see cref="DataVolumeKind.Cluster"/> volume already exists, with
    /// <paramref name="reason"/> as the message: a restore into a new cluster needs them gone.
    /// </summary>
    public static void RequireNewClusterVolumes(IDistributedApplicationBuilder builder, string reason)
    {
        ArgumentNullException.ThrowIfNull(builder);
        sets.GetValue(builder, applicationBuilder => new VolumeSet(applicationBuilder, Prefix(applicationBuilder.Configuration))).NewClusterRequiredBecause = reason;
    }

    /// <summary>One application's volumes, created (labelled) when it starts.</summary>
    private sealed class VolumeSet
    {
        public VolumeSet(IDistributedApplicationBuilder builder, string prefix)
        {
            // Before the orchestrator sees any resource: it makes every named volume up front, unlabelled, and
            // `docker volume create` leaves an existing volume (and its labels) as it is.
            builder.Eventing.Subscribe<BeforeStartEvent>(async (_, cancellationToken) =>
            {
                if (NewClusterRequiredBecause is { } reason)
                {
                    var onEngine = (await DockerCli.RunAsync(["volume", "ls", "--format", "{{.Name}}"], cancellationToken)).Split('\n', StringSplitOptions.TrimEntries).ToHashSet();
                    var existing = Volumes.Where(v => v.Kind == DataVolumeKind.Cluster && onEngine.Contains(v.Name)).Select(v => v.Name).ToList();
                    if (existing.Count > 0)
                    {
                        throw new InvalidOperationException($"{reason} Existing: {string.Join(", ", existing)}.");
                    }
                }

                await Task.WhenAll(Volumes.Select(v => DockerCli.RunAsync(
                    [
                        "volume", "create", "--label", $"{SetLabel}={prefix}", "--label", $"{ResourceLabel}={v.Resource}",
                        "--label", $"{KindLabel}={v.Kind.ToString().ToLowerInvariant()}", v.Name,
                    ],
                    cancellationToken)));
            });
        }

        public List<(string Name, string Resource, DataVolumeKind Kind)> Volumes { get; } = [];

        public string? NewClusterRequiredBecause { get; set; }
    }

    /// <summary>The names of the volumes of the set <paramref name="prefix"/> (only those holding <paramref name="kind"/>, if given) that exist on the engine.</summary>
    public static async Task<IReadOnlyList<string>> ExistingAsync(string prefix, DataVolumeKind? kind = null, CancellationToken cancellationToken = default)
    {
        string[] kindFilter = kind is { } k ? ["--filter", $"label={KindLabel}={k.ToString().ToLowerInvariant()}"] : [];
        var output = await DockerCli.RunAsync(["volume", "ls", "--quiet", "--filter", $"label={SetLabel}={prefix}", .. kindFilter], cancellationToken);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    /// <summary>
    /// Removes every volume of the set <paramref name="prefix"/> (a test run's; only those holding <paramref name="kind"/>,
    /// if given, as <c>eng/down.sh --cluster-volumes</c> does) once its containers are gone. The
    /// orchestrator removes them a while after the application stops (minutes on a loaded machine); after
    /// <paramref name="patience"/> the containers still holding the set's volumes are removed here (they are that
    /// run's own), then the volumes.
    /// </summary>
    public static async Task RemoveSetAsync(string prefix, TimeSpan patience, DataVolumeKind? kind = null, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var volumes = await ExistingAsync(prefix, kind, cancellationToken);
            if (volumes.Count == 0)
            {
                return;
            }

            var result = await DockerCli.ExecuteAsync(["volume", "rm", .. volumes], cancellationToken: cancellationToken);
            if (result.ExitCode == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var holders = await DockerCli.RunAsync(["ps", "-aq", .. volumes.SelectMany(v => new[] { "--filter", $"volume={v}" })], cancellationToken);
                var containers = holders.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (containers.Length > 0)
                {
                    await DockerCli.RunAsync(["rm", "-f", .. containers], cancellationToken);
                }

                (await DockerCli.ExecuteAsync(["volume", "rm", .. volumes], cancellationToken: cancellationToken)).EnsureSucceeded();
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }
}
