extern alias migrate;

using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate.Target;

namespace IshChat.Tests.Migration;

/// <summary>
/// import's messages go in chunks of whole sessions adjacent in session_id order: a session split over two chunks
/// could be half written after a crash with its seq numbers in two transactions, and a chunk of scattered sessions
/// would write into every page of the messages' indexes again.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SessionChunksTests
{
    [Fact]
    public void EverySessionLandsInExactlyOneChunkAndEachChunkIsARunOfAdjacentSessions()
    {
        // Given: 5 000 sessions with skewed message counts (a few busy, most not), in no particular order
        var random = new Random(7);
        var sessions = Enumerable.Range(1, 5_000).ToDictionary(i => (long)i, _ => Guid.CreateVersion7(DateTimeOffset.UnixEpoch.AddSeconds(random.Next(1_000_000_000))));
        var counts = sessions.ToDictionary(p => p.Value, p => (long)(random.Next(4) == 0 ? random.Next(2_000) : random.Next(20)));

        // When: they are planned in chunks of about 10 000 messages and assigned
        var bounds = SessionChunks.Plan(counts.Select(p => (p.Key, p.Value)), 10_000);
        var chunks = SessionChunks.Assign(bounds, sessions);

        // Then: every session is in one chunk, the chunks follow each other in session_id order without overlapping,
        // and each holds at least the target but for the last, and less than the target plus its biggest session
        Assert.Equal(sessions.Keys.Order(), chunks.SelectMany(c => c).Order());
        var ordered = chunks.SelectMany(c => c.Select(s => sessions[s])).ToList();
        Assert.Equal(sessions.Values.Order(), ordered);
        for (var k = 0; k < chunks.Length; k++)
        {
            Assert.Equal(bounds[k], sessions[chunks[k][0]]);
            var messages = chunks[k].Sum(s => counts[sessions[s]]);
            Assert.True(k == chunks.Length - 1 || messages >= 10_000, $"chunk {k} holds {messages} messages");
            Assert.True(messages < 10_000 + chunks[k].Max(s => counts[sessions[s]]), $"chunk {k} holds {messages} messages");
        }
    }

    [Fact]
    public void TheSamePlanAssignsASessionToTheSameChunkWhicheverSessionsAreAsked()
    {
        // Given: a plan made by a first run
        var sessions = Enumerable.Range(1, 300).ToDictionary(i => (long)i, _ => Guid.CreateVersion7());
        var bounds = SessionChunks.Plan(sessions.Values.Select(id => (id, 7L)), 100);

        // When: a resumed run assigns the same sessions from another dictionary order
        var first = SessionChunks.Assign(bounds, sessions);
        var again = SessionChunks.Assign(bounds, sessions.Reverse().ToDictionary());

        // Then: every chunk holds the same sessions in the same order
        Assert.Equal(first.Length, again.Length);
        Assert.All(Enumerable.Range(0, first.Length), k => Assert.Equal(first[k], again[k]));
    }

    [Fact]
    public void AnInstanceWithoutValidSessionsPlansNoChunk()
    {
        Assert.Empty(SessionChunks.Plan([], 1_000));
        Assert.Empty(SessionChunks.Assign([], new Dictionary<long, Guid>()));
    }
}
