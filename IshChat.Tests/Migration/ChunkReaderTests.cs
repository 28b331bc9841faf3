extern alias migrate;

using System.Globalization;
using System.Text;
using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate.Generate;
using migrate::IshChat.Migrate.Legacy;
using migrate::IshChat.Migrate.Mapping;
using migrate::IshChat.Migrate.Target;

namespace IshChat.Tests.Migration;

/// <summary>
/// A file too big for memory is read twice: each chunk reads its sessions' rows again by id. That path must write
/// exactly what the in-memory one writes, or an import of a big file would differ from one of a small file.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ChunkReaderTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"chunk-reader-{Guid.NewGuid():N}.db");

    [Fact]
    public void AChunkReadAgainFromTheFileHoldsWhatPassOneKeptInMemory()
    {
        // Given: a dirty file, read once keeping the messages and once without
        new LegacyGenerator(41, 0.05).Generate(path, 3_000);
        using var legacy = LegacyDatabase.Open(path);
        var instance = Guid.CreateVersion7();
        var highWater = legacy.ReadHighWater();
        var kept = LegacySnapshot.Read(legacy, instance, highWater, keepMessages: true);
        var notKept = LegacySnapshot.Read(legacy, instance, highWater);
        var devices = kept.Devices.Values.ToDictionary(d => d.LegacyId, d => NewIds.For(instance, LegacySchema.Devices, d.LegacyId, d.CreatedAt));
        var sessions = kept.Sessions.Values.ToDictionary(s => s.LegacyId,
            s => NewIds.For(instance, LegacySchema.Sessions, s.LegacyId.ToString(CultureInfo.InvariantCulture), s.StartedAt));
        var bounds = SessionChunks.Plan(sessions.Values.Select(id => (id, 1L)), 20);

        // When: every chunk is read both ways
        var fromMemory = new ChunkReader(legacy, kept, instance, devices, sessions);
        var fromFile = new ChunkReader(legacy, notKept, instance, devices, sessions);
        var written = 0;
        foreach (var chunk in SessionChunks.Assign(bounds, sessions))
        {
            var a = fromMemory.Read(chunk);
            var b = fromFile.Read(chunk);

            // Then: the same messages in the same order, byte for byte, and nothing rejected as changed
            Assert.Empty(b.Rejects);
            Assert.Equal(a.Messages.Select(Key), b.Messages.Select(Key));
            written += a.Messages.Count;
        }

        Assert.Equal(kept.ValidMessages, written);
    }

    private static string Key(StagedMessage m) =>
        $"{m.SessionId} {m.Seq} {m.SenderId} {m.ClientMessageId} {m.CreatedAt:O} {Convert.ToHexString(m.Utf8Body?.ToArray() ?? Encoding.UTF8.GetBytes(m.Body!))}";

    public void Dispose() => File.Delete(path);
}
