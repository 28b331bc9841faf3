using IshChat.Api.Data;
using IshChat.AppHost.Hosting.Azure;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>
/// One connection, one name, in four places: what the API reads, what the AppHost's publish model
/// declares, the Key Vault secret infra/ writes and the Container Apps secret the API's environment uses.
/// </summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class ConnectionNameTests
{
    private static readonly string[] ContainerLists = ["containers", "initContainers"];

    [Fact(Timeout = 180_000)]
    public async Task EveryConnectionTheApiReadsIsAKeyVaultSecretWiredIntoTheApi()
    {
        var main = await InfraTemplates.MainAsync();
        var secretNames = InfraTemplates.Module(main, "secrets")["variables"]!["secretNames"]!.AsArray().Select(n => (string)n!).ToList();
        var apps = InfraTemplates.Module(main, "container-apps");
        var apiEnvironment = InfraTemplates.Single(apps, "Microsoft.App/containerApps")["properties"]!["template"]!["containers"]![0]!["env"]!.AsArray()
            .ToDictionary(e => (string)e!["name"]!, e => (string?)e!["secretRef"]);

        // The AppHost's publish-mode names are the API's own
        Assert.Equal(ChatDatabase.ReadWriteName, AzureDeployment.ReadWriteConnectionName);
        Assert.Equal(ChatDatabase.ReadOnlyName, AzureDeployment.ReadOnlyConnectionName);

        foreach (var name in new[] { AzureDeployment.ReadWriteConnectionName, AzureDeployment.ReadOnlyConnectionName, AzureDeployment.RedisConnectionName })
        {
            // Key Vault holds it under configuration's "--" for ":"…
            Assert.Contains($"ConnectionStrings--{name}", secretNames);
            // …and the API's environment takes it from the Container Apps secret that references it.
            Assert.Equal($"connectionstrings--{name}", apiEnvironment[$"ConnectionStrings__{name}"]);
        }

        Assert.Contains($"ConnectionStrings--{AzureDeployment.MigratorConnectionName}", secretNames);
        Assert.Contains(AzureDeployment.AdminApiKeyParameterName, secretNames);
        Assert.Equal(AzureDeployment.AdminApiKeyParameterName, apiEnvironment["Chat__AdminApiKey"]);
    }

    [Fact(Timeout = 180_000)]
    public async Task EverySecretTheAppsReferenceIsWrittenToKeyVaultAndDeclaredWhereItIsUsed()
    {
        var main = await InfraTemplates.MainAsync();
        var written = InfraTemplates.Module(main, "secrets")["variables"]!["secretNames"]!.AsArray().Select(n => (string)n!).ToHashSet();
        var apps = InfraTemplates.Module(main, "container-apps");

        foreach (var (list, type) in new[] { ("apiSecrets", "Microsoft.App/containerApps"), ("jobSecrets", "Microsoft.App/jobs") })
        {
            // A reference to a secret nobody writes fails only when the revision starts, in Azure.
            var referenced = apps["variables"]![list]!.AsArray().Select(n => (string)n!).ToList();
            Assert.All(referenced, name => Assert.Contains(name, written));

            // Every secretRef in the containers names a secret that app declares (Container Apps lower-cases names).
            var template = InfraTemplates.Single(apps, type)["properties"]!["template"]!;
            var refs = ContainerLists
                .SelectMany(c => template[c]?.AsArray() ?? [])
                .SelectMany(c => c!["env"]!.AsArray())
                .Select(e => (string?)e!["secretRef"]).OfType<string>();
            Assert.All(refs, secretRef => Assert.Contains(secretRef, referenced.Select(n => n.ToLowerInvariant())));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task EverySecretNameHasAValue()
    {
        var secrets = InfraTemplates.Module(await InfraTemplates.MainAsync(), "secrets");
        var names = secrets["variables"]!["secretNames"]!.AsArray().Select(n => (string)n!).ToList();

        // The loop runs over the names; Bicep inlines the name → value object into the secret's value.
        var value = (string)InfraTemplates.Single(secrets, "Microsoft.KeyVault/vaults/secrets")["properties"]!["value"]!;
        Assert.StartsWith("[createObject(", value);
        Assert.All(names, name => Assert.Contains($"'{name}', ", value));
    }

    [Fact(Timeout = 180_000)]
    public async Task ApiConnectsThroughTheBuiltInPgBouncerOverTlsAndTheMigratorOverASession()
    {
        var secrets = InfraTemplates.Module(await InfraTemplates.MainAsync(), "secrets");
        var apiOptions = (string)secrets["variables"]!["apiOptions"]!;
        var value = (string)InfraTemplates.Single(secrets, "Microsoft.KeyVault/vaults/secrets")["properties"]!["value"]!;

        // PgBouncer's port, the application role, TLS with the chain verified, no reset per transaction.
        Assert.Contains("Port=6432", apiOptions);
        Assert.Contains("Username=ishchat_app", apiOptions);
        Assert.Contains("SSL Mode=VerifyCA", apiOptions);
        Assert.Contains("No Reset On Close=true", apiOptions);
        // The migrator: PostgreSQL's own port on the primary, its certificate name verified.
        Assert.Contains("Port=5432;Database={1};Username=ishchat_migrator;Password={2};SSL Mode=VerifyFull", value);
        // Redis on its TLS port only.
        Assert.Contains("ssl=True", value);
        Assert.Contains("sslPort", value);
    }
}
