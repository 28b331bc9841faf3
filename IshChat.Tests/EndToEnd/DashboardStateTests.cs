using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>What the dashboard's resource list says about the Patroni cluster: who leads, who streams, and that it follows changes.</summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class DashboardStateTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ResourceListNamesTheLeaderAndEachReplicasLagAndFollowsASwitchover()
    {
        // Given a settled cluster
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");

        // Then the states the AppHost published name Patroni's leader, each replica with its lag, and the cluster's leader
        var shown = await Eventually.GetAsync(ShownStatesAsync, s => ShowsLeader(s, before.Leader!.Name), convergence, $"the dashboard naming {before.Leader!.Name} the leader");
        output.WriteLine(string.Join(Environment.NewLine, shown.Select(s => $"{s.Key}: {s.Value}")));

        // When leadership moves
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync(ResourceNames.Postgres, PatroniCommands.Switchover);
        Assert.True(result.Success, result.Message);
        var after = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, s => s.Leader is { } leader && leader.Name != before.Leader!.Name && fixture.IsHealthy(s),
            convergence, "a new leader with every replica streaming");

        // Then the resource list follows without anyone refreshing anything
        var followed = await Eventually.GetAsync(ShownStatesAsync, s => ShowsLeader(s, after.Leader!.Name), TimeSpan.FromSeconds(30), $"the dashboard naming {after.Leader!.Name} the leader");
        output.WriteLine(string.Join(Environment.NewLine, followed.Select(s => $"{s.Key}: {s.Value}")));
        Assert.Equal("Leader", followed[after.Leader!.Name]);
        Assert.True(IsStreamingStandby(followed[before.Leader!.Name]), $"{before.Leader!.Name} shows '{followed[before.Leader!.Name]}'");
    }

    private bool ShowsLeader(IReadOnlyDictionary<string, string?> shown, string leader)
    {
        var replicas = fixture.Cluster.ServingNodes.Count - 1;
        // "Leader pg-0 · 3 replicas", followed by " (3 sync)" when commits wait for them
        return shown[ResourceNames.Postgres] is { } cluster && cluster.StartsWith($"Leader {leader} · {replicas} replicas", StringComparison.Ordinal)
            && fixture.Cluster.ServingNodes.All(node => node.Name == leader
                ? shown[node.Name] == "Leader"
                : IsStreamingStandby(shown[node.Name]));
    }

    /// <summary>"Replica · lag 0 B", or "Quorum standby · lag 0 B" / "Sync standby · …" when commits wait for it.</summary>
    private static bool IsStreamingStandby(string? shown) =>
        shown is not null && (shown.StartsWith("Replica · lag ", StringComparison.Ordinal)
            || shown.StartsWith("Quorum standby · lag ", StringComparison.Ordinal)
            || shown.StartsWith("Sync standby · lag ", StringComparison.Ordinal));

    /// <summary>The state text of the cluster and each node, as the dashboard's resource list shows it now.</summary>
    private async Task<IReadOnlyDictionary<string, string?>> ShownStatesAsync(CancellationToken cancellationToken)
    {
        var shown = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in fixture.Cluster.ServingNodes.Select(n => n.Name).Prepend(ResourceNames.Postgres))
        {
            var current = await fixture.App.ResourceNotifications.WaitForResourceAsync(name, _ => true, cancellationToken);
            shown[name] = current.Snapshot.State?.Text;
        }

        return shown;
    }
}
