using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Healing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Healing;

public static class SelfHealingExtensions
{
    /// <summary>
    /// Every container of the application that dies (killed, crashed, out of memory) is started again through the
    /// orchestrator, with back-off (<see cref="ContainerSupervisor"/>); one stopped on purpose (the dashboard's Stop,
    /// shutting down) stays stopped. The dashboard's fault commands still work: the fault happens, then the healing.
    /// </summary>
    public static IDistributedApplicationBuilder AddSelfHealing(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            var services = @event.Services;
            var notifications = services.GetRequiredService<ResourceNotificationService>();
            var commands = services.GetRequiredService<ResourceCommandService>();
            var containers = @event.Model.Resources.OfType<ContainerResource>().ToList();
            var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
            var supervisor = new ContainerSupervisor(
                async (containerId, cancellationToken) =>
                {
                    foreach (var resource in containers)
                    {
                        if (await notifications.ContainerIdAsync(resource, cancellationToken) is { } id
                            && (id.StartsWith(containerId, StringComparison.Ordinal) || containerId.StartsWith(id, StringComparison.Ordinal)))
                        {
                            return new SupervisedContainer(resource.Name, async ct =>
                            {
                                // Shutting down: the ordered stop of the cluster (replicas, then the leader) runs
                                // before this supervisor is disposed, and what it stops must stay stopped.
                                if (lifetime.ApplicationStopping.IsCancellationRequested)
                                {
                                    return;
                                }

                                var started = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, ct);
                                if (!started.Success)
                                {
                                    throw new InvalidOperationException(started.Message ?? $"the orchestrator did not start {resource.Name}");
                                }
                            });
                        }
                    }

                    return null;
                },
                services.GetRequiredService<ILoggerFactory>().CreateLogger("IshChat.SelfHealing"));
            supervisor.Start();
            // Stopped before the orchestrator removes the containers, so that their ends are not healed.
            lifetime.ApplicationStopping.Register(() => supervisor.DisposeAsync().AsTask().Wait());
            return Task.CompletedTask;
        });

        return builder;
    }
}
