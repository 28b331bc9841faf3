using IshChat.Cluster.Chaos;
using IshChat.Cluster.Faults;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.Chaos;

/// <summary>
/// The chaos matrix's representative rows (<see cref="ChaosMatrix.Representative"/>) under the API load, on the
/// AppHost (quorum commit, its default): no client sees an error, nothing acknowledged is lost (in asynchronous mode a
/// primary loss may lose up to maximum_lag_on_failover) or stored twice, no sequence number names two messages and a
/// client polling by cursor misses nothing. The whole matrix, with its table, is the benchmark (bench/chaos.sh).
/// </summary>
[Collection(AppHostClusterCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Failover)]
public sealed class ChaosMatrixTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    /// <summary>Generous: a freeze lasts 25 s; a write or read pause longer than that and a half would be a stall, not a failover.</summary>
    private static readonly TimeSpan longestBearablePause = TimeSpan.FromSeconds(40);

    /// <summary>
    /// Generous too, for a PgBouncer: the API stops using a silent one within seconds (its probe, SilentHostWatch), where
    /// before it held writes for the whole 25 s freeze; a pause this long would mean the watch did not act.
    /// </summary>
    private static readonly TimeSpan longestBearablePgBouncerPause = TimeSpan.FromSeconds(15);

    public static TheoryData<string> Rows => [.. ChaosMatrix.Representative.Select(r => r.Name)];

    [Theory(Timeout = TestTimeouts.Failover)]
    [MemberData(nameof(Rows))]
    public async Task UnderTheApiLoadAComponentKilledFrozenOrCutOffCostsClientsNothing(string rowName)
    {
        // Given the whole AppHost and the API load (posts, read-backs with the token, cursor polls)
        var row = ChaosMatrix.Representative.Single(r => r.Name == rowName);
        var runner = new AppHostChaosRunner(fixture, output);

        // When the row's fault hits its component, and is repaired
        var outcome = await runner.RunAsync(row);

        // Then the row meets the matrix's goal, and nobody waited long
        Assert.True(outcome.Acknowledged > 20, $"too few posts to judge ({outcome.Acknowledged})");
        Assert.Empty(runner.Goal.Misses(row, outcome));
        var bearable = row.Component.Tier == ChaosTier.PgBouncer ? longestBearablePgBouncerPause : longestBearablePause;
        Assert.True(outcome.LongestWritePause < bearable, $"writes paused {outcome.LongestWritePause.TotalSeconds:F1} s");
        Assert.True(outcome.LongestReadPause < bearable, $"reads paused {outcome.LongestReadPause.TotalSeconds:F1} s");
    }
}
