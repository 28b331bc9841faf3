using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class PatroniSettingsTests
{
    [Fact]
    public void DefaultTimingsLetTheLeaderDemoteBeforeItsLeaseExpires()
    {
        var settings = new PatroniSettings();

        settings.Validate();
        Assert.True(settings.LoopWaitSeconds + 2 * settings.RetryTimeoutSeconds <= settings.TtlSeconds);
        Assert.Equal(20, settings.TtlSeconds);
    }

    [Fact]
    public void TtlBelowPatronisFloorIsRejected()
    {
        var settings = new PatroniSettings { TtlSeconds = 10 };

        Assert.Throws<ArgumentOutOfRangeException>(settings.Validate);
    }

    [Fact]
    public void RetryTimeoutThatOutlivesTheLeaseIsRejected()
    {
        var settings = new PatroniSettings { TtlSeconds = 20, LoopWaitSeconds = 5, RetryTimeoutSeconds = 10 };

        var error = Assert.Throws<ArgumentException>(settings.Validate);
        Assert.Contains("must not exceed ttl", error.Message);
    }

    [Theory]
    [InlineData(SynchronousMode.Off, "off")]
    [InlineData(SynchronousMode.On, "on")]
    [InlineData(SynchronousMode.Quorum, "quorum")]
    public void SynchronousModeReachesTheNodesEnvironment(SynchronousMode mode, string expected)
    {
        var environment = ComponentEnvironment.PatroniNode("pg-0", "ishchat", ["etcd-0"], new PatroniSettings { SynchronousMode = mode });

        Assert.Equal(expected, environment["ISHCHAT_PATRONI_SYNCHRONOUS_MODE"].Literal);
    }

    [Fact]
    public void NodesGetTheirOwnPasswordsAndOnlyVerifiersOfTheApplicationRoles()
    {
        var environment = ComponentEnvironment.PatroniNode("pg-0", "ishchat", ["etcd-0"], new PatroniSettings());

        var passwords = environment.Where(e => e.Key.EndsWith("_PASSWORD", StringComparison.Ordinal)).ToList();
        Assert.All(passwords, p => Assert.NotNull(p.Value.Secret));
        Assert.Equal(
            ["PATRONI_ETCD3_PASSWORD", "PATRONI_REPLICATION_PASSWORD", "PATRONI_RESTAPI_PASSWORD", "PATRONI_REWIND_PASSWORD", "PATRONI_SUPERUSER_PASSWORD"],
            passwords.Where(p => !p.Value.AsVerifier).Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["ISHCHAT_ADMIN_PASSWORD", "ISHCHAT_APP_PASSWORD", "ISHCHAT_IMPORTER_PASSWORD", "ISHCHAT_MIGRATOR_PASSWORD", "ISHCHAT_MONITOR_PASSWORD",
             "ISHCHAT_PGBOUNCER_AUTH_PASSWORD"],
            passwords.Where(p => p.Value.AsVerifier).Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AVerifierIsPostgresSScramFormatAndNeverContainsThePassword()
    {
        var verifier = ScramVerifier.Of("it's \"#1:\\x");

        Assert.Matches(@"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$", verifier);
        Assert.DoesNotContain("it's", verifier, StringComparison.Ordinal);
        // Stable for one password (the reconcile callback compares them), different for another
        Assert.Equal(verifier, ScramVerifier.Of("it's \"#1:\\x"));
        Assert.NotEqual(verifier, ScramVerifier.Of("it's \"#2:\\x"));
    }

    [Fact]
    public void EtcdMemberMustBeOneOfTheMembers()
    {
        Assert.Throws<ArgumentException>(() => ComponentEnvironment.EtcdMember("etcd-9", ["etcd-0", "etcd-1", "etcd-2"], "token"));
    }
}
