using IshChat.Cluster.Regions;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.ClusterDefinition;

/// <summary>The standby region's link, one description for the image's bootstrap and for the promotion and the fence.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class StandbyClusterSettingsTests
{
    [Fact]
    public void AStandbyRegionsNodesAreToldWhichRouterToFollowAndAPrimaryRegionsAreNot()
    {
        var standby = ComponentEnvironment.PatroniNode("dr-pg-0", "ishchat-dr", ["dr-etcd-0"], new PatroniSettings(), new StandbyClusterSettings("haproxy-0"));
        var primary = ComponentEnvironment.PatroniNode("pg-0", "ishchat", ["etcd-0"], new PatroniSettings());

        Assert.Equal("haproxy-0", standby["ISHCHAT_STANDBY_CLUSTER_HOST"].Literal);
        Assert.Equal("5000", standby["ISHCHAT_STANDBY_CLUSTER_PORT"].Literal);
        Assert.False(standby.ContainsKey("ISHCHAT_STANDBY_CLUSTER_PRIMARY_SLOT_NAME"));
        Assert.DoesNotContain(primary.Keys, key => key.StartsWith("ISHCHAT_STANDBY_CLUSTER_", StringComparison.Ordinal));
    }

    [Fact]
    public void TheDynamicConfigurationClonesOverReplicationAndNamesTheSlotOnlyWhenGiven()
    {
        var plain = new StandbyClusterSettings("dr-haproxy").ToDynamicConfiguration();
        var slotted = new StandbyClusterSettings("dr-haproxy") { PrimarySlotName = "standby_region" }.ToDynamicConfiguration();

        Assert.Equal("dr-haproxy", plain["host"]);
        Assert.Equal(ClusterPorts.HAProxyReadWrite, plain["port"]);
        Assert.Equal(["basebackup"], (string[])plain["create_replica_methods"]);
        Assert.False(plain.ContainsKey("primary_slot_name"));
        Assert.Equal("standby_region", slotted["primary_slot_name"]);
    }

    [Theory]
    [InlineData("""{"ttl": 20}""", false)]
    [InlineData("""{"standby_cluster": {"host": "", "port": "", "restore_command": "", "create_replica_methods": ""}}""", false)]
    [InlineData("""{"standby_cluster": {"host": "dr-haproxy", "port": 5000}}""", true)]
    [InlineData("""{"standby_cluster": {"restore_command": "pgbackrest archive-get %f %p"}}""", true)]
    public void AClusterIsAStandbyOnlyWhenItsSectionNamesWhereToFollowAsPatroniDecides(string configuration, bool standby)
    {
        using var document = System.Text.Json.JsonDocument.Parse(configuration);

        Assert.Equal(standby, StandbyClusterSettings.IsStandbyCluster(document.RootElement));
    }
}
