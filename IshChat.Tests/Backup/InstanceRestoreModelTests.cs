using System.Text.RegularExpressions;
using IshChat.Cluster.InstanceRestore;
using IshChat.MigrationService;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Backup;

/// <summary>The per-instance restore's knowledge without Docker: which tables it covers and how it reads pgBackRest's progress.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
[Trait(TestCategories.Name, TestCategories.Backup)]
public sealed partial class InstanceRestoreModelTests
{
    [Fact]
    public void EveryPerInstanceTableOfTheMigrationsIsEitherRestoredOrDeliberatelyLeftOut()
    {
        // Given every table the migrations create with an instance_id column
        var assembly = typeof(SchemaMigrator).Assembly;
        var sql = string.Join('\n', assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => new StreamReader(assembly.GetManifestResourceStream(n)!).ReadToEnd()));
        var perInstance = CreateTable().Matches(sql).Where(m => m.Groups["body"].Value.Contains("instance_id", StringComparison.Ordinal))
            .Select(m => m.Groups["name"].Value).ToList();

        // Then each one is in exactly one of the two lists, and the restored ones are in the order their foreign keys need
        Assert.NotEmpty(perInstance);
        Assert.All(perInstance, t => Assert.True(InstanceTables.Restored.Any(r => r.Name == t) ^ InstanceTables.NotRestored.ContainsKey(t), $"{t} is in neither or both lists"));
        var order = InstanceTables.Restored.Select(t => t.Name).ToList();
        Assert.True(order.IndexOf("chat.instances") < order.IndexOf("chat.devices") && order.IndexOf("chat.devices") < order.IndexOf("chat.sessions")
            && order.IndexOf("chat.sessions") < order.IndexOf("chat.messages"));
    }

    [Theory]
    [InlineData("2026-11-25 14:18:00.969 P01 DETAIL: restore file /var/lib/postgresql/data/backup_label (258B, 0.00%) checksum ce05c7a8a64c", 258L, 0.0)]
    [InlineData("2026-11-25 14:18:01.168 P02 DETAIL: restore file /var/lib/postgresql/data/postgresql.base.conf (bundle 1/32, 30.4KB, 0.10%) checksum b4f6e446", 31129L, 0.1)]
    [InlineData("2026-11-25 14:18:02.839 P02 DETAIL: restore file /var/lib/postgresql/data/base/5/16400 (1GB, 87.50%) checksum 0a1b", 1073741824L, 87.5)]
    public void PgBackRestsRestoredFileLinesGiveSizeAndPercentage(string line, long bytes, double percent)
    {
        Assert.Equal((bytes, (double?)percent), SideRestoreProgress.ParseRestoredFile(line));
    }

    [Fact]
    public void OtherLinesAreNotFilesAndTheEtaFollowsFromThePercentage()
    {
        Assert.Null(SideRestoreProgress.ParseRestoredFile("P00 DETAIL: create path '/var/lib/postgresql/data/base'"));
        var progress = new SideRestoreProgress(SideRestoreProgress.RestoringFiles, 10, 1048576, 25, TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(30), progress.Eta);
        Assert.Equal("restoring files: 10 files, 1.0 MiB, 25 %, ETA 30 s (10 s)", progress.ToString());
    }

    [GeneratedRegex(@"CREATE TABLE (?<name>chat\.\w+) \((?<body>.*?)\n\);", RegexOptions.Singleline)]
    private static partial Regex CreateTable();
}
