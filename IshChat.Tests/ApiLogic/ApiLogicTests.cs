using IshChat.Api.Auth;
using IshChat.Api.Data;
using IshChat.Api.Messages;
using IshChat.Api.Validation;
using IshChat.Tests.Infrastructure;
using Npgsql;

namespace IshChat.Tests.ApiLogic;

/// <summary>The API's pure rules: text, cursors, tokens, keys, retries.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ApiLogicTests
{
    [Theory]
    [InlineData("hello", true)]
    [InlineData("line one\nline two\ttabbed", true)]
    [InlineData("emoji 😀 and ünïcödé", true)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("nul\0inside", false)]
    [InlineData("bell\a", false)]
    public void MessageTextIsAcceptedOnlyWhenPostgreSqlCanStoreIt(string text, bool valid) =>
        Assert.Equal(valid, TextRules.CheckMessage(text) is null);

    [Fact]
    public void LoneSurrogateIsRejectedBecauseItHasNoUtf8Form() =>
        Assert.NotNull(TextRules.CheckMessage("broken \ud800 text"));

    [Fact]
    public void MessageLengthCountsCodePointsLikePostgreSqlCharLength()
    {
        // Given 4000 emoji (8000 UTF-16 units, 4000 code points) and one more
        var atLimit = string.Concat(Enumerable.Repeat("😀", TextRules.MaxMessageLength));

        // Then the limit is 4000 code points
        Assert.Null(TextRules.CheckMessage(atLimit));
        Assert.NotNull(TextRules.CheckMessage(atLimit + "x"));
    }

    [Fact]
    public void NamesAreOneLine() => Assert.NotNull(TextRules.CheckName("two\nlines"));

    [Theory]
    [InlineData("0", true)]
    [InlineData("42", true)]
    [InlineData("-1", false)]
    [InlineData("+1", false)]
    [InlineData(" 1", false)]
    [InlineData("1e3", false)]
    [InlineData("99999999999999999999", false)]
    [InlineData("", false)]
    public void CursorIsAPlainNonNegativeSequenceNumber(string text, bool valid) =>
        Assert.Equal(valid, MessageCursor.TryParse(text, out _));

    [Fact]
    public void ConsistencyTokenRoundTripsAndComparesAsAWalPosition()
    {
        // Given a token parsed from PostgreSQL's notation
        Assert.True(ConsistencyToken.TryParse("1/A0", out var token));

        // Then it prints the same, and only a position at or after it reaches it
        Assert.Equal("1/A0", token.ToString());
        Assert.True(token.IsReachedBy(NpgsqlTypes.NpgsqlLogSequenceNumber.Parse("1/A0")));
        Assert.True(token.IsReachedBy(NpgsqlTypes.NpgsqlLogSequenceNumber.Parse("2/0")));
        Assert.False(token.IsReachedBy(NpgsqlTypes.NpgsqlLogSequenceNumber.Parse("0/FFFFFFFF")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("16B3748")]
    [InlineData("0/XYZ")]
    [InlineData("0/1; DROP TABLE x")]
    public void MalformedConsistencyTokenIsRefused(string text) => Assert.False(ConsistencyToken.TryParse(text, out _));

    [Fact]
    public void ApiKeysAreRandomAndOnlyTheirHashIsComparable()
    {
        var first = ApiKeys.Generate();
        var second = ApiKeys.Generate();

        Assert.NotEqual(first, second);
        Assert.Equal(32, ApiKeys.Hash(first).Length);
        Assert.True(ApiKeys.Matches(first, first));
        Assert.False(ApiKeys.Matches(first, second));
        Assert.True(first.Length <= ApiKeys.MaxLength);
    }

    [Fact]
    public void RetryDelaysGrowWithJitterUpToTheCap()
    {
        // Given the default policy and a seeded random source
        var policy = RetryPolicy.Default;
        var random = new Random(7);

        // When delays are drawn for many attempts
        var delays = Enumerable.Range(1, 12).Select(a => policy.DelayBefore(a, random)).ToList();

        // Then none exceeds the cap, the late ones are at least a tenth of it, and they are not all equal
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, policy.MaxDelay));
        Assert.All(delays.Skip(8), d => Assert.True(d >= policy.MaxDelay / 10));
        Assert.True(delays.Skip(8).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData("25006", "read_only")]
    [InlineData("57P01", "admin_shutdown")]
    [InlineData("40001", "conflict")]
    [InlineData("23505", null)]
    [InlineData("22P02", null)]
    public void OnlyTransientServerErrorsAreRetried(string sqlState, string? reason) =>
        Assert.Equal(reason, TransientFailures.Reason(new PostgresException("test", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void ReadOnlyAfterFailoverClearsThePool()
    {
        Assert.True(TransientFailures.PoisonsPool(new PostgresException("read-only", "ERROR", "ERROR", "25006")));
        Assert.False(TransientFailures.PoisonsPool(new PostgresException("conflict", "ERROR", "ERROR", "40001")));
    }

    [Fact]
    public void EveryPgBouncerMarkedOfflineIsRetriedAfterClearingTheMarks()
    {
        // Npgsql's multi-host data source throws this bare exception when it skipped every host as offline.
        var noHost = new NpgsqlException("No suitable host was found.");
        var refused = new NpgsqlException("Unable to connect to a suitable host. Check inner exception for more details.", new AggregateException());

        Assert.Equal("no_host", TransientFailures.Reason(noHost));
        Assert.True(TransientFailures.MarksEveryHostOffline(noHost));
        Assert.False(TransientFailures.MarksEveryHostOffline(refused));
    }
}
