using System.Text.Json;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class DynamicConfigurationTests
{
    private static readonly PatroniSettings quorum = new() { SynchronousMode = SynchronousMode.Quorum };

    [Fact]
    public void AClusterBootstrappedAsynchronouslyDriftsOnlyInItsSynchronousMode()
    {
        // Given GET /config of a cluster bootstrapped with the defaults, but asynchronous, plus keys the settings don't own
        var current = Json("""
            {"ttl": 20, "loop_wait": 2, "retry_timeout": 5, "primary_start_timeout": 10, "maximum_lag_on_failover": 1048576,
             "synchronous_mode": false, "synchronous_node_count": 1, "failsafe_mode": false,
             "member_slots_ttl": 0, "postgresql": {"parameters": {"max_connections": 200}}}
            """);

        var drift = DynamicConfiguration.Drift(current, quorum);

        var only = Assert.Single(drift);
        Assert.Equal("synchronous_mode", only.Key);
        Assert.Equal("false", only.Current);
        Assert.Equal("quorum", only.Desired);
        Assert.Equal("synchronous_mode false → \"quorum\"", only.ToString());
    }

    [Fact]
    public void PatronisLenientSpellingsOfTheSameValueAreNoDrift()
    {
        var current = Json("""
            {"ttl": "20", "loop_wait": 2, "retry_timeout": 5, "primary_start_timeout": 10, "maximum_lag_on_failover": "1048576",
             "synchronous_mode": "on", "synchronous_node_count": 1, "failsafe_mode": "off"}
            """);

        Assert.Empty(DynamicConfiguration.Drift(current, new PatroniSettings { SynchronousMode = SynchronousMode.On }));
    }

    [Fact]
    public void MissingKeysAndAnEmptyConfigurationDriftInEveryOwnedKey()
    {
        var drift = DynamicConfiguration.Drift(Json("{}"), quorum);

        Assert.Equal(DynamicConfiguration.Of(quorum).Keys.Order(), drift.Select(d => d.Key).Order());
        Assert.All(drift, d => Assert.Null(d.Current));
    }

    [Theory]
    [InlineData(SynchronousMode.Off, "false")]
    [InlineData(SynchronousMode.On, "true")]
    [InlineData(SynchronousMode.Quorum, "\"quorum\"")]
    public void TheSynchronousModeIsSpelledAsTheImageRendersItIntoBootstrap(SynchronousMode mode, string json)
    {
        var settings = new PatroniSettings { SynchronousMode = mode };

        Assert.Equal(json, JsonSerializer.Serialize(DynamicConfiguration.Of(settings)["synchronous_mode"]));
        Assert.Empty(DynamicConfiguration.Drift(Json(JsonSerializer.Serialize(DynamicConfiguration.Of(settings))), settings));
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
