using System.Text.Json.Nodes;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>Redis, Key Vault, monitoring and the Container Apps as the compiled main.bicep deploys them.</summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class PlatformTemplateTests
{
    [Fact(Timeout = 180_000)]
    public async Task RedisAcceptsOnlyTlsOneTwoOrNewerAndNoPublicTraffic()
    {
        var redis = InfraTemplates.Single(InfraTemplates.Module(await InfraTemplates.MainAsync(), "redis"), "Microsoft.Cache/redis");
        var properties = redis["properties"]!;

        Assert.False((bool)properties["enableNonSslPort"]!);
        Assert.Equal("1.2", (string?)properties["minimumTlsVersion"]);
        Assert.Equal("Disabled", (string?)properties["publicNetworkAccess"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task KeyVaultAuthorisesWithRbacAndKeepsDeletedSecrets()
    {
        var vault = InfraTemplates.Single(InfraTemplates.Module(await InfraTemplates.MainAsync(), "keyvault"), "Microsoft.KeyVault/vaults");
        var properties = vault["properties"]!;

        Assert.True((bool)properties["enableRbacAuthorization"]!);
        Assert.True((bool)properties["enablePurgeProtection"]!);
        Assert.Null(properties["accessPolicies"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task ApiRunsAtLeastTwoReplicasWithProbesAndAnHttpScaleRule()
    {
        var main = await InfraTemplates.MainAsync();
        var apps = InfraTemplates.Module(main, "container-apps");
        var api = InfraTemplates.Single(apps, "Microsoft.App/containerApps");
        var template = api["properties"]!["template"]!;

        // Two replicas by default, and the parameter refuses fewer in both files.
        Assert.Equal("[parameters('apiMinReplicas')]", (string?)template["scale"]!["minReplicas"]);
        Assert.Equal(2, (int)InfraTemplates.DefaultOf(main, "apiMinReplicas")!);
        Assert.Equal(2, (int)main["parameters"]!["apiMinReplicas"]!["minValue"]!);
        Assert.Equal(2, (int)apps["parameters"]!["apiMinReplicas"]!["minValue"]!);

        var rule = Assert.Single(template["scale"]!["rules"]!.AsArray());
        Assert.NotNull(rule!["http"]!["metadata"]!["concurrentRequests"]);

        var probes = template["containers"]![0]!["probes"]!.AsArray();
        Assert.Equal(["Startup", "Liveness", "Readiness"], probes.Select(p => (string)p!["type"]!));
        // A new revision starts serving only once its dependencies answer; after that only the process is probed.
        Assert.Equal(["/health", "/alive", "/alive"], probes.Select(p => (string)p!["httpGet"]!["path"]!));

        // azd deploys into the app carrying this tag (azure.yaml: services.api).
        Assert.Contains("'azd-service-name', 'api'", (string?)api["tags"]);
        Assert.False((bool)api["properties"]!["configuration"]!["ingress"]!["allowInsecure"]!);
    }

    [Fact(Timeout = 180_000)]
    public async Task MigrationsRunAsAManualJobThatFirstCreatesTheRoles()
    {
        var apps = InfraTemplates.Module(await InfraTemplates.MainAsync(), "container-apps");
        var job = InfraTemplates.Single(apps, "Microsoft.App/jobs");

        Assert.Equal("Manual", (string?)job["properties"]!["configuration"]!["triggerType"]);
        var init = Assert.Single(job["properties"]!["template"]!["initContainers"]!.AsArray());
        Assert.Contains("psql", init!["command"]!.ToJsonString());
        // The SQL is inlined by loadTextContent; it must be the roles script, not an empty file.
        Assert.Contains("CREATE ROLE ishchat_app", apps["variables"]!.ToJsonString());
        Assert.Contains(job["properties"]!["template"]!["containers"]![0]!["env"]!.AsArray(),
            e => (string?)e!["name"] == "ConnectionStrings__chatdb-migrator");
    }

    [Fact(Timeout = 180_000)]
    public async Task MigrationsJobCreatesTheImporterRoleFromTheLocalClustersOwnDefinition()
    {
        // Given the compiled template
        var apps = InfraTemplates.Module(await InfraTemplates.MainAsync(), "container-apps");
        var variables = apps["variables"]!.AsObject();
        var job = InfraTemplates.Single(apps, "Microsoft.App/jobs");
        var init = Assert.Single(job["properties"]!["template"]!["initContainers"]!.AsArray())!;

        // When Azure evaluates the init container's script: the roles file with the include replaced, as the template says
        var expression = (string)variables["bootstrapSql"]!;
        var loaded = variables.Where(v => v.Key.StartsWith("$fxv#", StringComparison.Ordinal)).Select(v => (string)v.Value!).ToList();
        var rolesFile = Assert.Single(loaded, text => text.Contains("CREATE ROLE ishchat_app", StringComparison.Ordinal));
        var importerFile = File.ReadAllText(Path.Combine(RepositoryLayout.Current.Root, "containers", "patroni", "importer-role.sql"));
        Assert.Contains(importerFile, loaded);
        Assert.StartsWith("[replace(", expression);
        var script = rolesFile.Replace((string)variables["importerRoleInclude"]!, importerFile, StringComparison.Ordinal);

        // Then the role is the one the local cluster's post-bootstrap creates, with nothing left for psql to include from a here-document
        Assert.Contains("ALTER ROLE :\"importer_user\" WITH LOGIN NOSUPERUSER", script);
        Assert.Contains("\\set importer_user ishchat_importer", script);
        Assert.DoesNotContain(script.Split('\n'), line => line.StartsWith("\\ir ", StringComparison.Ordinal));
        Assert.Contains("GRANT CONNECT ON DATABASE :\"db\" TO ishchat_app, ishchat_admin, ishchat_importer", script);
        // …and its password is a Key Vault secret, as the other roles'
        Assert.Contains(init["env"]!.AsArray(), e => (string?)e!["name"] == "ISHCHAT_IMPORTER_PASSWORD" && (string?)e["secretRef"] == "postgres-importer-password");
    }

    [Fact(Timeout = 180_000)]
    public async Task ContainerAppsEnvironmentIsInTheVirtualNetworkAndZoneRedundantByDefault()
    {
        var main = await InfraTemplates.MainAsync();
        var environment = InfraTemplates.Single(InfraTemplates.Module(main, "container-apps"), "Microsoft.App/managedEnvironments");

        Assert.Equal("[parameters('appsSubnetId')]", (string?)environment["properties"]!["vnetConfiguration"]!["infrastructureSubnetId"]);
        Assert.Equal("[parameters('zoneRedundant')]", (string?)environment["properties"]!["zoneRedundant"]);
        Assert.Equal("[parameters('zoneRedundant')]", (string?)InfraTemplates.PassedTo(main, "container-apps", "zoneRedundant"));
    }

    [Fact(Timeout = 180_000)]
    public async Task GrafanaReadsTheManagedPrometheusWorkspace()
    {
        var monitoring = InfraTemplates.Module(await InfraTemplates.MainAsync(), "monitoring");
        var grafana = InfraTemplates.Single(monitoring, "Microsoft.Dashboard/grafana");

        var integration = Assert.Single(grafana["properties"]!["grafanaIntegrations"]!["azureMonitorWorkspaceIntegrations"]!.AsArray());
        Assert.Contains("Microsoft.Monitor/accounts", (string?)integration!["azureMonitorWorkspaceResourceId"]);
        Assert.Single(InfraTemplates.Resources(monitoring, "Microsoft.Monitor/accounts"));
    }

    [Fact(Timeout = 180_000)]
    public async Task SeedsDatabaseAlertsBecomeMetricAlertsOnTheServers()
    {
        var alerts = InfraTemplates.Module(await InfraTemplates.MainAsync(), "postgres-alerts");
        var metrics = alerts["variables"]!["primaryAlerts"]!.AsArray().Select(a => ((string)a!["metric"]!, (double)a["threshold"]!)).ToList();

        // The seed's list: disk > 85 %, query timeouts (30 s), pool waits; and the server answering at all.
        Assert.Contains(("storage_percent", 85), metrics);
        Assert.Contains(("longest_transaction_time_sec", 30), metrics);
        Assert.Contains(("client_connections_waiting", 0), metrics);
        Assert.Contains(("is_db_alive", 1), metrics);
        // Replication lag > 10 s, one alert per replica.
        Assert.Contains(InfraTemplates.Resources(alerts, "Microsoft.Insights/metricAlerts"),
            a => a["properties"]!.ToJsonString().Contains("physical_replication_delay_in_seconds") && (int?)a["properties"]!["criteria"]!["allOf"]![0]!["threshold"] == 10);
    }

    [Fact(Timeout = 30_000)]
    public async Task ParametersFileFollowsAzdsEnvironmentConventionAndCoversEveryRequiredParameter()
    {
        var main = await InfraTemplates.MainAsync();
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(InfraTemplates.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();

        Assert.Equal("${AZURE_ENV_NAME}", (string?)file["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)file["location"]!["value"]);

        // Every parameter main.bicep requires has a value, and nothing names a parameter main.bicep lacks.
        var declared = main["parameters"]!.AsObject();
        Assert.All(declared.Where(p => p.Value!["defaultValue"] is null), p => Assert.True(file.ContainsKey(p.Key), $"{p.Key} has no value in main.parameters.json"));
        Assert.All(file.Select(p => p.Key), name => Assert.True(declared.ContainsKey(name), $"main.parameters.json sets {name}, which main.bicep does not declare"));

        // Secrets are generated once by azd and read back from Key Vault afterwards, never written here.
        Assert.All(declared.Where(p => (string?)p.Value!["type"] == "securestring"),
            p => Assert.StartsWith("$(secretOrRandomPassword ${AZURE_KEY_VAULT_NAME} ", (string?)file[p.Key]!["value"]));
    }
}
