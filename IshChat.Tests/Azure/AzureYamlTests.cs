using System.Text.Json;
using System.Text.Json.Nodes;
using IshChat.Tests.Infrastructure;
using Json.Schema;
using YamlDotNet.Serialization;

namespace IshChat.Tests.Azure;

/// <summary>
/// azure.yaml is what `azd up` reads first: valid against azd's schema (the fields we use, transcribed in
/// azure-yaml.schema.json), and every path it names exists.
/// </summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class AzureYamlTests
{
    private static string Root => RepositoryLayout.Current.Root;

    private static JsonNode LoadAzureYaml(string text)
    {
        // YAML → JSON text → JsonNode: the schema speaks JSON. azure.yaml holds strings only, so untyped scalars do.
        var yaml = new DeserializerBuilder().Build().Deserialize<object>(text);
        var json = new SerializerBuilder().JsonCompatible().Build().Serialize(yaml);
        return JsonNode.Parse(json)!;
    }

    private static EvaluationResults Validate(JsonNode document)
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Root, "IshChat.Tests", "Azure", "azure-yaml.schema.json")));
        return schema.Evaluate(JsonSerializer.SerializeToElement(document), new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Errors(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    [Fact(Timeout = 30_000)]
    public async Task AzureYamlIsValidAgainstAzdsSchema()
    {
        var document = LoadAzureYaml(await File.ReadAllTextAsync(Path.Combine(Root, "azure.yaml")));

        var results = Validate(document);

        Assert.True(results.IsValid, Errors(results));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("name: IshChat\nservices:\n  api:\n    project: ./IshChat.Api\n    host: containerapp\n")]
    [InlineData("name: ishchat\nservices:\n  api:\n    project: ./IshChat.Api\n")]
    [InlineData("name: ishchat\nservices:\n  api:\n    project: ./IshChat.Api\n    image: x\n    host: containerapp\n")]
    [InlineData("name: ishchat\nservices:\n  api:\n    project: ./IshChat.Api\n    host: containerapp\n    hooks:\n      predeploy:\n        shell: sh\n")]
    [InlineData("name: ishchat\nservices:\n  api:\n    project: ./IshChat.Api\n    host: containerapp\n    hooks:\n      beforedeploy:\n        run: x\n")]
    public async Task SchemaRejectsWhatAzdRejects(string yaml)
    {
        // Upper case name; no host; both project and image; a shell without run; an unknown hook event.
        await Task.Yield();

        Assert.False(Validate(LoadAzureYaml(yaml)).IsValid);
    }

    [Fact(Timeout = 30_000)]
    public async Task AzureYamlDeploysTheApiFromInfraAndRunsTheMigrationsFirst()
    {
        var document = LoadAzureYaml(await File.ReadAllTextAsync(Path.Combine(Root, "azure.yaml")));

        // infra/main.bicep is the template azd provisions
        Assert.Equal("bicep", (string?)document["infra"]!["provider"]);
        Assert.True(File.Exists(Path.Combine(Root, (string)document["infra"]!["path"]!, (string)document["infra"]!["module"]! + ".bicep")));

        // one service, the API, built from its project into the container app tagged azd-service-name=api
        var services = document["services"]!.AsObject();
        var api = Assert.Single(services);
        Assert.Equal("api", api.Key);
        Assert.Equal("containerapp", (string?)api.Value!["host"]);
        Assert.True(File.Exists(Path.Combine(Root, (string)api.Value["project"]!, "IshChat.Api.csproj")));

        // the predeploy hook (run from the service's folder) is the migration script, and it exists
        var run = (string)api.Value["hooks"]!["predeploy"]!["posix"]!["run"]!;
        Assert.StartsWith("bash ", run);
        var script = Path.GetFullPath(Path.Combine(Root, (string)api.Value["project"]!, run["bash ".Length..]));
        Assert.Equal(Path.Combine(Root, "infra", "scripts", "run-migrations.sh"), script);
        Assert.True(File.Exists(script));
    }
}
