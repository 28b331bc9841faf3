using System.Text.Json.Nodes;

namespace IshChat.Tests.Azure;

/// <summary>
/// infra/ compiled once per test run: main.bicep to ARM JSON (modules become nested deployments), and
/// the helpers the assertions use to find a module's template and its resources by type.
/// </summary>
internal static class InfraTemplates
{
    public static readonly TimeSpan BicepTimeout = TimeSpan.FromMinutes(2);

    public static string InfraDirectory => Path.Combine(RepositoryLayout.Current.Root, "infra");

    private static readonly Lazy<Task<JsonObject>> main = new(() => CompileAsync("main.bicep"));

    /// <summary>main.bicep as ARM JSON.</summary>
    public static Task<JsonObject> MainAsync() => main.Value;

    public static async Task<JsonObject> CompileAsync(string relativePath)
    {
        var result = await BicepCli.RunAsync(["build", relativePath, "--stdout"], InfraDirectory, BicepTimeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build {relativePath} failed:\n{result.StandardError}");
        }

        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    /// <summary>The template of the module deployed as <paramref name="deploymentName"/> (main.bicep's module name).</summary>
    public static JsonObject Module(JsonObject template, string deploymentName) =>
        Resources(template, "Microsoft.Resources/deployments")
            .Single(d => (string?)d["name"] == deploymentName)["properties"]!["template"]!.AsObject();

    public static JsonObject Module(JsonObject template, string deploymentName, string nestedNameContains) =>
        Resources(template, "Microsoft.Resources/deployments")
            .Single(d => ((string?)d["name"] ?? "").Contains(nestedNameContains, StringComparison.Ordinal)
                         && ((string?)d["name"] ?? "") != deploymentName)["properties"]!["template"]!.AsObject();

    public static IEnumerable<JsonObject> Resources(JsonObject template, string type) =>
        template["resources"]!.AsArray().Select(r => r!.AsObject()).Where(r => (string?)r["type"] == type);

    public static JsonObject Single(JsonObject template, string type) => Assert.Single(Resources(template, type));

    /// <summary>A parameter's default value (what azd deploys unless the environment says otherwise).</summary>
    public static JsonNode? DefaultOf(JsonObject template, string parameter) => template["parameters"]![parameter]!["defaultValue"];

    /// <summary>What the parent template passes to a module parameter.</summary>
    public static JsonNode? PassedTo(JsonObject parent, string deploymentName, string parameter) =>
        Resources(parent, "Microsoft.Resources/deployments").Single(d => (string?)d["name"] == deploymentName)
            ["properties"]!["parameters"]![parameter]!["value"];
}
