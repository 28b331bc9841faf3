using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Images;

/// <summary>
/// Points containers at the images built from <c>containers/</c>. When the application starts, every
/// missing image is built at once, ahead of need (a build's log shows in the consoles of the resources
/// using that image); each container waits only for its own image. Images are tagged by content,
/// never pulled, and never re-tagged per run, so repeated runs leave no dangling images behind.
/// Building the model alone (as the model tests do) builds nothing.
/// </summary>
public static class ClusterImageResourceExtensions
{
    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, ImageBuilds> builds = [];

    public static IResourceBuilder<T> WithClusterImage<T>(this IResourceBuilder<T> builder, ClusterImage image)
        where T : ContainerResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        var layout = RepositoryLayout.FindFrom(builder.ApplicationBuilder.AppHostDirectory);
        var imageBuilds = builds.GetValue(builder.ApplicationBuilder, applicationBuilder => new ImageBuilds(applicationBuilder, layout));
        imageBuilds.Add(image, builder.Resource);

        builder.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>(builder.Resource, (_, cancellationToken) =>
            imageBuilds.Of(image).WaitAsync(cancellationToken));

        // ASPIRECERTIFICATES001: WithoutHttpsCertificate is experimental in Aspire 13.6; it is the only opt-out.
#pragma warning disable ASPIRECERTIFICATES001
        return builder
            .WithImage(image.Repository, image.Tag(layout))
            .WithImageRegistry(null)
            .WithImagePullPolicy(ImagePullPolicy.Never)
            // Once an ASP.NET Core development certificate exists, Aspire 13 adds it to every container's trust
            // (SSL_CERT_DIR) and can serve Redis over TLS with it; with one on the machine our redis-exporter's plain
            // redis:// stopped reaching Redis (redis_up absent in ScrapeTargetTests). Our images behave the same with or without one.
            .WithDeveloperCertificateTrust(false)
            .WithoutHttpsCertificate();
#pragma warning restore ASPIRECERTIFICATES001
    }

    /// <summary>The images one application uses, and their builds once it starts.</summary>
    private sealed class ImageBuilds
    {
        private readonly ConcurrentDictionary<ClusterImage, List<IResource>> users = new();
        private readonly ConcurrentDictionary<ClusterImage, Task> started = new();
        private readonly RepositoryLayout layout;
        private Func<ClusterImage, Task> build = _ => throw new InvalidOperationException("Images are built when the application starts.");

        public ImageBuilds(IDistributedApplicationBuilder applicationBuilder, RepositoryLayout layout)
        {
            this.layout = layout;
            applicationBuilder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
            {
                Start(@event.Services);
                return Task.CompletedTask;
            });
        }

        public void Add(ClusterImage image, IResource resource) => users.GetOrAdd(image, _ => []).Add(resource);

        public Task Of(ClusterImage image) => started.GetOrAdd(image, build);

        private void Start(IServiceProvider services)
        {
            var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var resourceLoggers = services.GetRequiredService<ResourceLoggerService>();
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.Images");
            // The package layer's log goes to every console waiting for it, a component's to its own resources'.
            var builder = new ClusterImageBuilder(layout, logger, (image, line) =>
            {
                foreach (var resource in users.Where(u => u.Key == image || u.Key.BuiltOn == image).SelectMany(u => u.Value))
                {
                    resourceLoggers.GetLogger(resource).LogInformation("{Line}", line);
                }
            });
            build = image => builder.EnsureBuiltAsync([image], stopping);

            var stopwatch = Stopwatch.StartNew();
            var all = users.Keys.Select(Of).ToList();
            _ = Task.WhenAll(all).ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        logger.LogInformation("{Count} cluster images ready after {Seconds:F0} s", all.Count, stopwatch.Elapsed.TotalSeconds);
                    }
                },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
