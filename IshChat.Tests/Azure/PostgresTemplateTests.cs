using System.Text.Json.Nodes;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>
/// What the local cluster promises about PostgreSQL (HA, replicas, pooling, backups, TLS, audit), found
/// in the compiled ARM template of infra/modules/postgres.bicep as main.bicep deploys it.
/// </summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class PostgresTemplateTests
{
    private static async Task<(JsonObject Main, JsonObject Postgres)> TemplatesAsync()
    {
        var main = await InfraTemplates.MainAsync();
        return (main, InfraTemplates.Module(main, "postgres"));
    }

    private static JsonObject Primary(JsonObject postgres) =>
        InfraTemplates.Resources(postgres, "Microsoft.DBforPostgreSQL/flexibleServers").Single(s => (string?)s["name"] == "[variables('serverName')]");

    [Fact(Timeout = 180_000)]
    public async Task PrimaryIsZoneRedundantWithItsStandbyInAnotherZoneByDefault()
    {
        var (main, postgres) = await TemplatesAsync();
        var properties = Primary(postgres)["properties"]!;

        // The mode follows the zoneRedundant switch, which main.bicep turns on unless told otherwise…
        Assert.Equal("[if(parameters('zoneRedundant'), 'ZoneRedundant', 'SameZone')]", (string?)properties["highAvailability"]!["mode"]);
        Assert.Equal("[if(parameters('zoneRedundant'), parameters('standbyZone'), parameters('primaryZone'))]", (string?)properties["highAvailability"]!["standbyAvailabilityZone"]);
        Assert.Equal("[parameters('zoneRedundant')]", (string?)InfraTemplates.PassedTo(main, "postgres", "zoneRedundant"));
        Assert.True((bool)InfraTemplates.DefaultOf(main, "zoneRedundant")!);

        // …and the standby's zone differs from the primary's.
        Assert.Equal("[parameters('primaryZone')]", (string?)properties["availabilityZone"]);
        Assert.NotEqual((string?)InfraTemplates.DefaultOf(postgres, "primaryZone"), (string?)InfraTemplates.DefaultOf(postgres, "standbyZone"));
    }

    [Fact(Timeout = 180_000)]
    public async Task BackupsAreKeptThirtyDaysAndCopiedToThePairedRegion()
    {
        var (_, postgres) = await TemplatesAsync();
        var backup = Primary(postgres)["properties"]!["backup"]!;

        Assert.Equal(30, (int)backup["backupRetentionDays"]!);
        Assert.Equal("Enabled", (string?)backup["geoRedundantBackup"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task EveryServerIsPrivateToTheVirtualNetwork()
    {
        var (_, postgres) = await TemplatesAsync();
        var servers = InfraTemplates.Resources(postgres, "Microsoft.DBforPostgreSQL/flexibleServers").ToList();

        Assert.Equal(3, servers.Count); // primary, in-region replicas (a copy loop), DR replica
        Assert.All(servers, server =>
        {
            var network = server["properties"]!["network"]!;
            Assert.Equal("Disabled", (string?)network["publicNetworkAccess"]);
            Assert.NotNull(network["delegatedSubnetResourceId"]);
            Assert.Contains("privateDnsZones", (string?)network["privateDnsZoneArmResourceId"]);
        });
    }

    [Fact(Timeout = 180_000)]
    public async Task ServerRequiresTlsPoolsWithPgBouncerAndPreloadsPgaudit()
    {
        var (_, postgres) = await TemplatesAsync();
        var parameters = postgres["variables"]!["serverParameters"]!;

        Assert.Equal("on", (string?)parameters["require_secure_transport"]);
        Assert.Equal("true", (string?)parameters["pgbouncer.enabled"]);
        Assert.Equal("transaction", (string?)parameters["pgbouncer.pool_mode"]);
        Assert.Contains("pgaudit", ((string)parameters["shared_preload_libraries"]!).Split(','));
        Assert.Contains("PGAUDIT", ((string)parameters["azure.extensions"]!).Split(','));

        // Applied to the primary through the configurations module, one parameter at a time.
        var module = InfraTemplates.Resources(postgres, "Microsoft.Resources/deployments").Single(d => (string?)d["name"] == "[format('{0}-parameters', variables('serverName'))]");
        Assert.Equal("[variables('serverParameters')]", (string?)module["properties"]!["parameters"]!["parameters"]!["value"]);
        var configurations = InfraTemplates.Single(module["properties"]!["template"]!.AsObject(), "Microsoft.DBforPostgreSQL/flexibleServers/configurations");
        Assert.Equal(1, (int)configurations["copy"]!["batchSize"]!);
        Assert.Equal("serial", (string?)configurations["copy"]!["mode"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task ServerLogWithPgauditsLinesGoesToLogAnalytics()
    {
        var (main, postgres) = await TemplatesAsync();

        var setting = InfraTemplates.Single(postgres, "Microsoft.Insights/diagnosticSettings");
        Assert.Contains(setting["properties"]!["logs"]!.AsArray(), l => (string?)l!["category"] == "PostgreSQLLogs" && (bool)l["enabled"]!);
        Assert.Contains("logAnalyticsWorkspaceId", (string?)InfraTemplates.PassedTo(main, "postgres", "logAnalyticsWorkspaceId"));
    }

    [Fact(Timeout = 180_000)]
    public async Task ReplicasKeepTlsAndThePoolerToo()
    {
        var (_, postgres) = await TemplatesAsync();
        var parameters = postgres["variables"]!["replicaParameters"]!;

        Assert.Equal("on", (string?)parameters["require_secure_transport"]);
        Assert.Equal("true", (string?)parameters["pgbouncer.enabled"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task ThreeReadReplicasByDefaultBehindTheReadOnlyVirtualEndpoint()
    {
        var (main, postgres) = await TemplatesAsync();

        var replicas = InfraTemplates.Resources(postgres, "Microsoft.DBforPostgreSQL/flexibleServers").Single(s => s["copy"] is not null);
        Assert.Equal("Replica", (string?)replicas["properties"]!["createMode"]);
        Assert.Equal("[length(range(0, parameters('replicaCount')))]", (string?)replicas["copy"]!["count"]);
        Assert.Equal("[parameters('postgresReplicaCount')]", (string?)InfraTemplates.PassedTo(main, "postgres", "replicaCount"));
        Assert.Equal(3, (int)InfraTemplates.DefaultOf(main, "postgresReplicaCount")!);

        var endpoint = InfraTemplates.Single(postgres, "Microsoft.DBforPostgreSQL/flexibleServers/virtualendpoints");
        Assert.Equal("ReadWrite", (string?)endpoint["properties"]!["endpointType"]);
        Assert.Equal("[greater(parameters('replicaCount'), 0)]", (string?)endpoint["condition"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task DisasterRecoveryReplicaGoesToTheSecondRegionWhenOneIsNamed()
    {
        var (main, postgres) = await TemplatesAsync();

        var dr = InfraTemplates.Resources(postgres, "Microsoft.DBforPostgreSQL/flexibleServers").Single(s => (string?)s["name"] == "[format('{0}-dr', variables('serverName'))]");
        Assert.Equal("[variables('hasDrReplica')]", (string?)dr["condition"]);
        Assert.Equal("Replica", (string?)dr["properties"]!["createMode"]);
        Assert.Equal("[if(variables('hasDrReplica'), parameters('drLocation'), parameters('location'))]", (string?)dr["location"]);
        Assert.Equal("[parameters('drLocation')]", (string?)InfraTemplates.PassedTo(main, "postgres", "drLocation"));
    }
}
