using System.Globalization;

namespace IshChat.Migrate.Generate;

/// <summary>How the legacy app wrote values over its versions: each clean value in one of the forms it really used.</summary>
internal sealed class GeneratorText(Random random)
{
    private static readonly string[] words =
    [
        "hello", "ok", "see", "you", "tomorrow", "the", "meeting", "moved", "to", "3pm", "thanks", "lunch", "?", "!",
        "Grüße", "naïve", "café", "привет", "こんにちは", "你好", "مرحبا", "👍", "🎉", "😂", "👩‍👩‍👧", "deploy", "done",
        "can", "we", "talk", "later", "sure", "on", "my", "way", "lol", "😅", "it's", "fine", "invoice", "#42",
    ];

    private static readonly string[] deviceNames = ["Pixel 7", "iPhone 15", "Galaxy S23", "ThinkPad", "Zoë's iPad", "李的电脑", "Kitchen tablet", "Büro-PC"];

    /// <summary>A time the app wrote, in one of its formats; returns the instant as stored (formats without milliseconds drop them).</summary>
    public (object Value, DateTimeOffset Stored) Time(DateTimeOffset time)
    {
        var seconds = new DateTimeOffset(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var millis = new DateTimeOffset(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        return random.Next(6) switch
        {
            // SQLite's CURRENT_TIMESTAMP (v1).
            0 => (seconds.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), seconds),
            // ISO 8601 from the v2 JSON layer, UTC with Z.
            1 => (millis.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), millis),
            // ISO 8601 with the device's offset (v2 on Android).
            2 => (millis.ToOffset(TimeSpan.FromHours(random.Next(-8, 10))).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture), millis),
            // Unix seconds (v3 server-side jobs).
            3 => (seconds.ToUnixTimeSeconds(), seconds),
            // Unix milliseconds (v3 clients).
            4 => (millis.ToUnixTimeMilliseconds(), millis),
            _ => (millis.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), millis),
        };
    }

    public object Boolean(bool value) => random.Next(4) switch
    {
        0 => value ? "true" : "false",
        1 => value ? "t" : "f",
        _ => value ? 1L : 0L,
    };

    public object? NotDeleted() => random.Next(10) switch
    {
        0 => null,
        1 => "false",
        _ => 0L,
    };

    public string DeviceName() => deviceNames[random.Next(deviceNames.Length)] + (random.Next(3) == 0 ? $" {random.Next(2, 9)}" : "");

    public string HexKey()
    {
        Span<byte> bytes = stackalloc byte[8];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public Guid Uuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)(0x40 | (bytes[7] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes);
    }

    /// <summary>Mostly short chat lines; some long ones, line breaks, tabs, emoji and non-Latin scripts.</summary>
    public string Body()
    {
        var count = random.Next(100) switch
        {
            < 70 => random.Next(1, 12),
            < 97 => random.Next(12, 80),
            _ => random.Next(80, 500),
        };
        var parts = new string[count];
        for (var i = 0; i < count; i++)
        {
            parts[i] = words[random.Next(words.Length)];
        }

        var body = string.Join(random.Next(20) == 0 ? "\n" : " ", parts);
        return random.Next(50) == 0 ? body + "\t(sent from mobile)" : body;
    }
}
