using IshChat.AppHost.Hosting.BackupStore;
using IshChat.Cluster.Backup;
using IshChat.Cluster.Docker;
using IshChat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// A backup store that crashed may have lost what it acknowledged last (docs/backup.md); once it is back, the app host
/// takes a full backup at once, so restores to any later time don't depend on the archive from before the crash.
/// </summary>
[Collection(AppHostRestartCollection.Name)]
[Trait(TestCategories.Name, TestCategories.Restart)]
public sealed class StoreOutageBackupTests(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan convergence = TimeSpan.FromMinutes(4);

    [Fact(Timeout = TestTimeouts.Restart)]
    public async Task AfterTheStoreCrashesAndComesBackAFullBackupIsTakenAtOnce()
    {
        // Given a cluster with a full backup in the repository
        var state = await Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, convergence, "a healthy cluster");
        var before = await Eventually.GetAsync(ct => fixture.RecoveryWindowAsync(state.Leader!.Name, ct), w => w.Backups > 0, convergence, "a full backup taken by the app host");

        // When the store is SIGKILLed (the self-healing starts it again)
        var store = await fixture.ContainerIdAsync(ResourceNames.BackupStore);
        await DockerCli.RunAsync(["kill", "--signal", "KILL", store]);
        var killedAt = DateTimeOffset.UtcNow;

        // Then a new full backup ends after the crash
        var after = await Eventually.GetAsync(ct => fixture.RecoveryWindowAsync(state.Leader!.Name, ct), w => w.NewestBackupEnded > killedAt, convergence, "a full backup after the store came back");
        output.WriteLine(
            $"store killed at {killedAt:u}; newest backup ended {before.NewestBackupEnded:u} before, {after.NewestBackupEnded:u} after " +
            $"({(after.NewestBackupEnded!.Value - killedAt).TotalSeconds:F0} s after the kill), {after.Backups} kept");
    }
}
