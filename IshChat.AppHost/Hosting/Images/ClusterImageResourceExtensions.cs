using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Images;

/// <summary>
/// Points containers at the images built from <c>containers/</c>, and builds a missing image
/// just before the first container that needs it starts (its build log shows in that
/// resource's console). Images are tagged by content, never pulled, and never re-tagged per
/// run, so repeated runs leave no dangling images behind. Building the model alone (as the
/// model tests do) builds nothing.
/// </summary>
public static class ClusterImageResourceExtensions
{
    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, ConcurrentDictionary<ClusterImage, Lazy<Task>>> builds = [];

    public static IResourceBuilder<T> WithClusterImage<T>(this IResourceBuilder<T> builder, ClusterImage image)
        where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        var layout = RepositoryLayout.FindFrom(builder.ApplicationBuilder.AppHostDirectory);
        var imageBuilds = builds.GetValue(builder.ApplicationBuilder, _ => new());

        builder.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>(builder.Resource, (@event, cancellationToken) =>
        {
            var resourceLogger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(@event.Resource);
            var consoleLogger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Images");
            // Four Patroni nodes share one image: the first to start builds it, the others wait for that build.
            var build = imageBuilds.GetOrAdd(image, _ => new Lazy<Task>(() =>
                new ClusterImageBuilder(layout, consoleLogger, line => resourceLogger.LogInformation("{Line}", line))
                    .EnsureBuiltAsync([image], CancellationToken.None)));
            return build.Value.WaitAsync(cancellationToken);
        });

        return builder
            .WithImage(image.Repository, image.Tag(layout))
            .WithImageRegistry(null)
            .WithImagePullPolicy(ImagePullPolicy.Never);
    }
}
