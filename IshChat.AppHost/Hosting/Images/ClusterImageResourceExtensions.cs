using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Images;

/// <summary>
/// Points containers at the images built from <c>containers/</c> and builds the missing ones
/// before anything starts. Images are tagged by content, never pulled, and never re-tagged per
/// run, so repeated runs leave no dangling images behind.
/// </summary>
public static class ClusterImageResourceExtensions
{
    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, HashSet<ClusterImage>> imagesToBuild = [];

    public static IResourceBuilder<T> WithClusterImage<T>(this IResourceBuilder<T> builder, ClusterImage image)
        where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        var layout = RepositoryLayout.FindFrom(builder.ApplicationBuilder.AppHostDirectory);
        RegisterBuild(builder.ApplicationBuilder, layout, image);

        return builder
            .WithImage(image.Repository, image.Tag(layout))
            .WithImageRegistry(null)
            .WithImagePullPolicy(ImagePullPolicy.Never);
    }

    private static void RegisterBuild(IDistributedApplicationBuilder builder, RepositoryLayout layout, ClusterImage image)
    {
        if (imagesToBuild.TryGetValue(builder, out var images))
        {
            images.Add(image);
            return;
        }

        images = [image];
        imagesToBuild.Add(builder, images);
        if (!builder.ExecutionContext.IsRunMode)
        {
            return;
        }

        builder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Images");
            await new ClusterImageBuilder(layout, logger).EnsureBuiltAsync(images, cancellationToken);
        });
    }
}
