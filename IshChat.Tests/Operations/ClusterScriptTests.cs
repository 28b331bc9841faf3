using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Operations;

/// <summary>
/// <c>eng/cluster.sh</c> against the running AppHost, through the Aspire CLI and the AppHost's backchannel socket, as a
/// person at a shell uses it: the command really runs, its refusals arrive with their reason and a non-zero exit.
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ClusterScriptTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task SwitchoverFromTheShellMovesTheLeaderAndStatusFollows()
    {
        // Given a settled cluster
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");

        // When the switchover runs from the shell
        var switchover = await ClusterScript.RunAsync("switchover");
        output.WriteLine(switchover.ToString());

        // Then it succeeds, and Patroni names another leader with every replica streaming
        Assert.True(switchover.ExitCode == 0, switchover.ToString());
        Assert.Contains("executed successfully", switchover.Errors, StringComparison.Ordinal);
        var after = await Eventually.GetAsync(
            fixture.PatroniClusterAsync, s => s.Leader is { } leader && leader.Name != before.Leader!.Name && fixture.IsHealthy(s),
            convergence, "a new leader with every replica streaming");

        // And status names the new leader as the dashboard does
        var status = await Eventually.GetAsync(
            _ => ClusterScript.RunAsync("status"), s => s.ExitCode == 0 && s.Output.Contains($"Leader {after.Leader!.Name}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), $"status naming {after.Leader!.Name} the leader");
        output.WriteLine(status.Output);
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ARefusedRemovalExitsNonZeroWithTheReasonAndChangesNothing()
    {
        // Given a cluster running exactly its configured replicas, no spare
        var before = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a settled cluster");
        var running = before.Members.Select(m => m.Name).Order().ToList();
        Assert.Equal(fixture.Cluster.ConfiguredReplicas + 1, running.Count);

        // When a replica is removed from the shell
        var removal = await ClusterScript.RunAsync("remove-replica");
        output.WriteLine(removal.ToString());

        // Then the AppHost's refusal reaches the shell, with a non-zero exit, and every node still runs
        Assert.NotEqual(0, removal.ExitCode);
        // (the highest running node goes first: the leader, after a switchover to it, is refused for that reason)
        Assert.True(
            removal.Errors.Contains("keeps at least", StringComparison.Ordinal) || removal.Errors.Contains("is the leader", StringComparison.Ordinal),
            removal.ToString());
        var after = await fixture.PatroniClusterAsync(default);
        Assert.Equal(running, after.Members.Select(m => m.Name).Order().ToList());
    }

    [Fact(Timeout = TestTimeouts.Integration)]
    public async Task ACommandOnANodeThatDoesNotExistFailsWithTheCliNamingIt()
    {
        var outcome = await ClusterScript.RunAsync("restart-postgres", "pg-9");
        output.WriteLine(outcome.ToString());

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("Resource 'pg-9' not found", outcome.Errors, StringComparison.Ordinal);
    }
}
