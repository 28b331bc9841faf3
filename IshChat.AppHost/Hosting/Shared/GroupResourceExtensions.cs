using IshChat.AppHost.Hosting.Patroni;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// A resource that stands for a group of containers (an etcd or Patroni cluster) has no process
/// of its own: its dashboard state follows its members'. Running while any member runs, so health
/// checks on the group can say whether the group as a whole serves.
/// </summary>
internal static class GroupResourceExtensions
{
    public static IResourceBuilder<T> WithStateOfMembers<T>(this IResourceBuilder<T> builder, Func<IReadOnlyList<IResource>> members)
        where T : IResource
    {
        builder.ApplicationBuilder.Eventing.Subscribe<InitializeResourceEvent>(builder.Resource, (@event, dispatchToken) =>
        {
            // The event's own token ends with its dispatch; following lasts as long as the application.
            _ = FollowMembersAsync(@event, members, @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            return Task.CompletedTask;
        });

        return builder;
    }

    private static async Task FollowMembersAsync(InitializeResourceEvent @event, Func<IReadOnlyList<IResource>> members, CancellationToken cancellationToken)
    {
        var group = @event.Resource;
        var memberNames = members().Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var states = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? published = null;
        try
        {
            await @event.Notifications.PublishUpdateAsync(group, s => s with { State = KnownResourceStates.Starting, ResourceType = group.GetType().Name.Replace("Resource", "") });
            await foreach (var update in @event.Notifications.WatchAsync(cancellationToken))
            {
                if (!memberNames.Contains(update.Resource.Name))
                {
                    continue;
                }

                states[update.Resource.Name] = update.Snapshot.State?.Text;
                // A Patroni node shows its role ("Leader", "Replica · lag 0 B") where others show "Running".
                var running = states.Values.Count(PatroniStates.IsUp);
                var state = running > 0 ? KnownResourceStates.Running
                    : states.Values.Count == memberNames.Count && states.Values.All(s => KnownResourceStates.TerminalStates.Contains(s)) ? KnownResourceStates.Exited
                    : KnownResourceStates.Starting;
                // Running is the group's resting state: the Patroni monitor may have put its label there since.
                if (state != published)
                {
                    published = state;
                    await @event.Notifications.PublishUpdateAsync(group, s => s with
                    {
                        State = state,
                        StartTimeStamp = s.StartTimeStamp ?? (state == KnownResourceStates.Running ? DateTime.UtcNow : null),
                    });
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
        catch (Exception ex)
        {
            @event.Logger.LogError(ex, "Stopped following the members of {Group}", group.Name);
        }
    }
}
