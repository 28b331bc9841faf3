using System.Globalization;
using System.Text.Json.Serialization;

namespace IshChat.Cluster.Patroni;

/// <summary>One node's own answer to GET /patroni: the parts a procedure waits on.</summary>
public sealed record NodeStatus
{
    /// <summary><c>running</c>, <c>starting</c>, <c>stopped</c>, …</summary>
    [JsonPropertyName("state")] public string? State { get; init; }

    /// <summary>As Patroni writes it: <c>2026-12-08 01:10:11.123456+00:00</c>.</summary>
    [JsonPropertyName("postmaster_start_time")] public string? PostmasterStartTimeText { get; init; }

    public DateTimeOffset? PostmasterStartTime =>
        DateTimeOffset.TryParse(PostmasterStartTimeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var started) ? started : null;

    /// <summary>Whether this PostgreSQL runs and was started after <paramref name="moment"/>.</summary>
    public bool RunsSince(DateTimeOffset moment) => State == "running" && PostmasterStartTime > moment;
}
