extern alias migrate;

using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate.Output;

namespace IshChat.Tests.Migration;

/// <summary>Without a terminal (the Aspire dashboard's log, CI, a pipe) a long step still shows how far it is.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ProgressLineTests
{
    [Fact]
    public async Task AStepWithoutATerminalPrintsPercentageRateAndEtaAsItGoesThenItsTotal()
    {
        await using var log = new StringWriter();

        await ProgressHost.RunAsync(bars: false, log, progress =>
        {
            using var step = progress.Start("Importing messages", 1_000, "rows");
            step.Value(250);
            step.Value(500);
            return Task.FromResult(0);
        }, lineInterval: TimeSpan.Zero);

        var lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("Importing messages: 250 of 1,000 rows (25%)", lines[0], StringComparison.Ordinal);
        Assert.Contains("rows/s, ETA ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Importing messages: 500 of 1,000 rows (50%)", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("Importing messages: 500 rows in ", lines[2], StringComparison.Ordinal);
    }
}
