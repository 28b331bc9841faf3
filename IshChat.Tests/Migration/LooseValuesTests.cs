extern alias migrate;

using System.Globalization;
using IshChat.Tests.Infrastructure;
using migrate::IshChat.Migrate.Legacy;

namespace IshChat.Tests.Migration;

/// <summary>
/// Pass 1 reads the common timestamp shapes by position instead of against eight formats: it must give every text
/// the same answer the formats give, or an import would keep a row it should reject, or shift a time.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class LooseValuesTests
{
    [Theory]
    [InlineData("2024-03-01 12:00:00")]
    [InlineData("2024-03-01 12:00:00.123")]
    [InlineData("2024-03-01T12:00:00")]
    [InlineData("2024-03-01T12:00:00.123Z")]
    [InlineData("2024-03-01T12:00:00Z")]
    [InlineData("2024-03-01T14:00:00.123+02:00")]
    [InlineData("2024-02-29T23:59:59.9999999-03:30")]
    public void TheShapesTheLegacyAppWroteTakeTheFastPathAndMeanWhatTheFormatsSay(string text)
    {
        // Given a timestamp as the legacy app wrote it
        // When both read it
        var fast = LooseValues.TryParseCommonTimestamp(text, out var byPosition);
        var formats = LooseValues.TryParseTimestampByFormats(text, out var byFormats);

        // Then the fast path takes it, at the same instant
        Assert.True(fast);
        Assert.True(formats);
        Assert.Equal(byFormats.UtcTicks, byPosition.UtcTicks);
    }

    [Fact]
    public void AnyTextTheFastPathAcceptsTheFormatsAcceptAtTheSameInstant()
    {
        // Given timestamps of every shape, with fields in and out of range, and dirt
        var random = new Random(13);
        var texts = new List<string>
        {
            "", "n/a", "yesterday", "31/12/2019", "2021-13-45 25:00:00", "2021-02-29 10:00:00", "2024-03-01 12:00:00.", "2024-03-01 12:00:00Z",
            "2024-03-01 12:00:00+02:00", "2024-03-01 12:00:00.1234567", "2024-03-01T12:00:00.12345678", "2024-03-01T12:00:00+15:00",
            "2024-03-01T12:00:00+14:00", "2024-03-01T12:00:00-14:01", "2024-03-01T12:00:00+0200", " 2024-03-01 12:00:00", "2024-03-01 12:00:00 ",
            "2024-03-01T24:00:00", "2024-03-01T12:60:00", "2024-03-01T12:00:60", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
            "2024-3-01 12:00:00", "2024-03-01X12:00:00", "2024-03-01T12:00:00.Z", "2024-03-01T12:00:00z",
        };
        for (var i = 0; i < 20_000; i++)
        {
            var separator = random.Next(2) == 0 ? ' ' : 'T';
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{random.Next(1890, 2210):0000}-{random.Next(0, 14):00}-{random.Next(0, 33):00}{separator}{random.Next(0, 26):00}:{random.Next(0, 62):00}:{random.Next(0, 62):00}");
            if (random.Next(2) == 0)
            {
                text += "." + new string('7', random.Next(0, 9));
            }

            text += random.Next(5) switch
            {
                0 => "Z",
                1 => string.Create(CultureInfo.InvariantCulture, $"{(random.Next(2) == 0 ? '+' : '-')}{random.Next(0, 16):00}:{random.Next(0, 61):00}"),
                _ => "",
            };
            texts.Add(text);
        }

        // When both read each, Then whatever the fast path takes, the formats take too, at the same instant
        var taken = 0;
        foreach (var text in texts)
        {
            if (LooseValues.TryParseCommonTimestamp(text, out var byPosition))
            {
                taken++;
                Assert.True(LooseValues.TryParseTimestampByFormats(text, out var byFormats), text);
                Assert.True(byFormats.UtcTicks == byPosition.UtcTicks, text);
            }
        }

        // (and the sample is no vacuous pass: many of them were valid)
        Assert.True(taken > 1_000, $"only {taken} taken");
    }
}
