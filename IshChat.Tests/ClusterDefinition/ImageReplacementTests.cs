using System.Text.Json;
using IshChat.Cluster.Images;
using IshChat.Cluster.Patroni;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

/// <summary>What a node image update reports and waits on, without Docker.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ImageReplacementTests
{
    [Fact]
    public void PackageChangesNameEachChangedAddedAndRemovedPackageAndNothingElse()
    {
        var before = new Dictionary<string, string> { ["patroni"] = "4.0.7-1", ["postgresql-17"] = "17.6-1", ["libpq5"] = "17.6-1", ["gone"] = "1.0" };
        var after = new Dictionary<string, string> { ["patroni"] = "4.0.7-1", ["postgresql-17"] = "17.7-1", ["libpq5"] = "17.7-1", ["new"] = "2.0" };

        var changes = ImageReplacement.PackageChanges(before, after);

        Assert.Equal(["- gone 1.0", "libpq5 17.6-1 → 17.7-1", "+ new 2.0", "postgresql-17 17.6-1 → 17.7-1"], changes);
        Assert.Empty(ImageReplacement.PackageChanges(before, before));
    }

    [Fact]
    public void CandidateAndPreviousAreTagsBesideTheRunningReferenceThatNoContentTagCleanupRemoves()
    {
        var reference = ClusterImages.Patroni.Reference(RepositoryLayout.Current);

        Assert.Equal(reference + "-candidate", ImageReplacement.CandidateOf(reference));
        Assert.False(ClusterImage.IsContentTag(ImageReplacement.CandidateOf(reference), ClusterImages.Patroni));
        Assert.False(ClusterImage.IsContentTag(ImageReplacement.PreviousOf(reference), ClusterImages.Patroni));
    }

    [Fact]
    public void ANodeRunsSinceAMomentOnlyWhenItsPostgresStartedAfterItAndRuns()
    {
        var status = JsonSerializer.Deserialize<NodeStatus>("""{"state": "running", "postmaster_start_time": "2026-12-08 01:10:11.123456+00:00", "role": "replica"}""")!;
        var started = new DateTimeOffset(2026, 12, 8, 1, 10, 11, TimeSpan.Zero);

        Assert.True(status.RunsSince(started.AddSeconds(-5)));
        Assert.False(status.RunsSince(started.AddSeconds(5)));
        Assert.False((status with { State = "starting" }).RunsSince(started.AddSeconds(-5)));
        Assert.False(new NodeStatus { State = "running" }.RunsSince(started));
    }
}
