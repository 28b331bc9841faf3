using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>Every Bicep file under infra/ compiles and passes the linter (infra/bicepconfig.json) without a single diagnostic.</summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class BicepLintTests
{
    private static List<string> RelativeBicepPaths() =>
        [.. Directory.EnumerateFiles(InfraTemplates.InfraDirectory, "*.bicep", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(InfraTemplates.InfraDirectory, file)).Order()];

    public static TheoryData<string> BicepFiles() => new(RelativeBicepPaths());

    [Fact(Timeout = 10_000)]
    public async Task InfraHoldsTheEntryPointAndEveryModule()
    {
        await Task.Yield();
        var files = RelativeBicepPaths();

        Assert.Contains("main.bicep", files);
        Assert.All(
            ["network", "postgres", "redis", "keyvault", "secrets", "monitoring", "postgres-alerts", "container-apps", "registry", "identity"],
            module => Assert.Contains(Path.Combine("modules", module + ".bicep"), files));
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(BicepFiles))]
    public async Task BicepFileBuildsWithoutWarnings(string file)
    {
        var result = await BicepCli.RunAsync(["build", file, "--stdout"], InfraTemplates.InfraDirectory, InfraTemplates.BicepTimeout);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", result.StandardError.Trim());
        Assert.StartsWith("{", result.StandardOutput.TrimStart());
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(BicepFiles))]
    public async Task BicepFileLintsWithoutDiagnostics(string file)
    {
        var result = await BicepCli.RunAsync(["lint", file], InfraTemplates.InfraDirectory, InfraTemplates.BicepTimeout);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", (result.StandardOutput + result.StandardError).Trim());
    }
}
