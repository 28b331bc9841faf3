using IshChat.AppHost.Hosting.Patroni;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Operations;

/// <summary><c>eng/cluster.sh</c> without an AppHost: it names the AppHost's own commands and refuses what it does not know.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ClusterScriptModelTests
{
    [Fact]
    public async Task ScriptCallsEveryPatroniCommandByTheNameTheAppHostGivesIt()
    {
        // Given the command names the AppHost registers on the cluster and its nodes
        string[] declared =
        [
            PatroniCommands.Switchover, PatroniCommands.RollingRestart, PatroniCommands.FailoverToNode, PatroniCommands.RestartPostgres, PatroniCommands.UpdateNodeImage,
            ReplicaCommands.AddReplica, ReplicaCommands.RemoveReplica,
        ];

        // When the script lists what each of its verbs runs
        var listed = await ClusterScript.RunAsync("commands");

        // Then every name it uses is one of them, and none is missing
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var used = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToList();
        Assert.Equal(declared.Order(), used.Order());
    }

    [Fact]
    public async Task AnUnknownVerbFailsWithTheListOfVerbsBeforeLookingForAnAppHost()
    {
        var outcome = await ClusterScript.RunAsync("switch-over");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("unknown command 'switch-over'", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("eng/cluster.sh switchover", outcome.Errors, StringComparison.Ordinal);
    }
}
