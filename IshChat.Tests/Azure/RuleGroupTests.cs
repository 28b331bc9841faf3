using System.Text.Json.Nodes;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>
/// The alert rules in Azure are the local ones: the generated rule-group file matches the rules file,
/// and the compiled template creates one Azure rule group per local group with the same expressions.
/// </summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class RuleGroupTests
{
    [Fact(Timeout = 30_000)]
    public async Task GeneratedRuleGroupsFileMatchesTheLocalPrometheusRulesFile()
    {
        await Task.Yield();

        // Given the local rules file, the one Prometheus loads
        var expected = PrometheusRuleGroups.Generate(PrometheusRuleGroups.Load(PrometheusRuleGroups.RulesFilePath));

        // When asked to (infra/monitoring/generate-rule-groups.sh), the generator rewrites the Azure file
        if (Environment.GetEnvironmentVariable(PrometheusRuleGroups.RegenerateVariable) == "1")
        {
            await File.WriteAllTextAsync(PrometheusRuleGroups.GeneratedFilePath, expected);
        }

        // Then the committed Azure file is exactly what the generator makes of it
        var committed = await File.ReadAllTextAsync(PrometheusRuleGroups.GeneratedFilePath);
        Assert.True(expected == committed.ReplaceLineEndings("\n"),
            "infra/monitoring/prometheus-rule-groups.json is out of date with containers/prometheus/rules/ishchat.rules.yml: run infra/monitoring/generate-rule-groups.sh");
    }

    [Fact(Timeout = 180_000)]
    public async Task CompiledTemplateCreatesEveryLocalRuleGroupWithTheSameExpressions()
    {
        // Given the local rules, read independently of the generator's output
        var local = PrometheusRuleGroups.Load(PrometheusRuleGroups.RulesFilePath);

        // When main.bicep is compiled
        var monitoring = InfraTemplates.Module(await InfraTemplates.MainAsync(), "monitoring");

        // Then the rule groups loop over the generated file, scoped to the Azure Monitor workspace…
        var ruleGroups = InfraTemplates.Single(monitoring, "Microsoft.AlertsManagement/prometheusRuleGroups");
        Assert.Equal("[length(variables('ruleFile').groups)]", (string?)ruleGroups["copy"]!["count"]);
        Assert.Equal("[variables('ruleFile').groups[copyIndex()].name]", (string?)ruleGroups["name"]);
        Assert.Contains("Microsoft.Monitor/accounts", ruleGroups["properties"]!["scopes"]!.ToJsonString());

        // …and the file baked into the template holds every local group and rule, expressions unchanged
        var baked = BakedRuleFile(monitoring);
        Assert.Equal(local.Groups.Select(g => g.Name), baked.Select(g => (string)g!["name"]!));
        foreach (var (group, azure) in local.Groups.Zip(baked))
        {
            var rules = azure!["rules"]!.AsArray();
            Assert.Equal(group.Rules.Select(r => r.Alert), rules.Select(r => (string)r!["alert"]!));
            Assert.Equal(group.Rules.Select(r => r.Expr.Trim()), rules.Select(r => (string)r!["expression"]!));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task OnlyGroupsWhoseMetricsCanExistInAzureAreEnabled()
    {
        await Task.Yield();
        var generated = JsonNode.Parse(await File.ReadAllTextAsync(PrometheusRuleGroups.GeneratedFilePath))!["groups"]!.AsArray();
        var enabled = generated.Where(g => (bool)g!["enabled"]!).Select(g => (string)g!["name"]!).ToList();

        // The cluster's own components (Patroni, etcd, exporters) do not exist in Azure: their groups would
        // never fire, or (absent()) fire for ever. The API's rules and the scrape-health rule stay on.
        Assert.Equal(["ishchat.api", "ishchat.scraping"], enabled);
        Assert.All(generated.Where(g => !(bool)g!["enabled"]!), g => Assert.StartsWith("Disabled: ", (string)g!["azure"]!));
    }

    [Theory(Timeout = 10_000)]
    [InlineData("10s", "PT1M")]
    [InlineData("1m", "PT1M")]
    [InlineData("90s", "PT1M30S")]
    [InlineData("1h30m", "PT1H30M")]
    public async Task PrometheusDurationsBecomeIsoDurationsNoShorterThanAzuresEvaluationInterval(string local, string azure)
    {
        await Task.Yield();
        var rules = new PrometheusRuleGroups.RulesFile
        {
            Groups = [new() { Name = "g", Rules = [new() { Alert = "A", Expr = "up == 0", For = local, Labels = new() { ["severity"] = "warning" } }] }],
        };

        var rule = JsonNode.Parse(PrometheusRuleGroups.Generate(rules))!["groups"]![0]!["rules"]![0]!;

        Assert.Equal(azure, (string?)rule["for"]);
        Assert.Equal(2, (int)rule["severity"]!);
    }

    private static JsonArray BakedRuleFile(JsonObject monitoring)
    {
        // Bicep inlines loadJsonContent() as a variable; ruleFile points at it.
        var variables = monitoring["variables"]!.AsObject();
        var reference = (string)variables["ruleFile"]!;
        var name = reference["[variables('".Length..^"')]".Length];
        return variables[name]!["groups"]!.AsArray();
    }
}
