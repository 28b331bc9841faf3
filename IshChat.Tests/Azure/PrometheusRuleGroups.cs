using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace IshChat.Tests.Azure;

/// <summary>
/// The generator of infra/monitoring/prometheus-rule-groups.json: the local Prometheus rules file
/// (containers/prometheus/rules/ishchat.rules.yml) turned into Azure Monitor Prometheus rule groups.
/// One source: the rules are written once, locally; run infra/monitoring/generate-rule-groups.sh after
/// editing them, and <see cref="RuleGroupTests"/> fails while the two disagree.
/// </summary>
internal static partial class PrometheusRuleGroups
{
    public const string RegenerateVariable = "ISHCHAT_REGENERATE_AZURE_RULES";

    public static string RulesFilePath => Path.Combine(RepositoryLayout.Current.ContainersDirectory, "prometheus", "rules", "ishchat.rules.yml");

    public static string GeneratedFilePath => Path.Combine(InfraTemplates.InfraDirectory, "monitoring", "prometheus-rule-groups.json");

    /// <summary>
    /// Where each local scrape job went in Azure. A group is enabled in Azure only when every job it reads
    /// is one Azure can have; otherwise it is created disabled with these reasons, so nothing fires on
    /// metrics that cannot exist (PatroniNoLeader's absent() would fire for ever).
    /// </summary>
    private static readonly Dictionary<string, (bool InAzure, string Why)> jobs = new()
    {
        ["postgres"] = (false, "Azure Database for PostgreSQL has no postgres_exporter; infra/modules/postgres-alerts.bicep alerts on its platform metrics (replication lag, is_db_alive, longest transaction)."),
        ["patroni"] = (false, "No Patroni in Azure: the service fails over by itself; is_db_alive is alerted on."),
        ["etcd"] = (false, "No etcd in Azure: the service keeps its own HA state."),
        ["pgbouncer"] = (false, "The built-in PgBouncer reports platform metrics; client_connections_waiting is alerted on."),
        ["node"] = (false, "No host to export in Azure; storage_percent is alerted on."),
        ["pgbackrest"] = (false, "Azure Database for PostgreSQL takes and keeps its own backups (geo-redundant, 30-day point-in-time restore window); the drill's textfile metrics do not exist there."),
        ["api"] = (true, "Reads the API's own metrics, once they are sent to this workspace (docs/azure.md, what remains)."),
    };

    /// <summary>Alertmanager severities as Azure alert severities (0 critical … 4 verbose).</summary>
    private static readonly Dictionary<string, int> severities = new() { ["critical"] = 0, ["warning"] = 2, ["info"] = 3 };

    /// <summary>Azure evaluates a rule group at most once a minute, so a shorter <c>for</c> cannot be honoured.</summary>
    private static readonly TimeSpan shortestFor = TimeSpan.FromMinutes(1);

    public static RulesFile Load(string path)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        return deserializer.Deserialize<RulesFile>(File.ReadAllText(path));
    }

    /// <summary>The JSON text infra/monitoring/prometheus-rule-groups.json must hold.</summary>
    public static string Generate(RulesFile rules)
    {
        var groups = new JsonArray();
        foreach (var group in rules.Groups)
        {
            var unknown = group.Rules.SelectMany(r => JobsOf(r.Expr)).Where(j => !jobs.ContainsKey(j)).ToList();
            if (unknown.Count > 0)
            {
                throw new InvalidOperationException($"Group {group.Name} reads job(s) {string.Join(", ", unknown)}: say in PrometheusRuleGroups where they went in Azure.");
            }

            var missing = group.Rules.SelectMany(r => JobsOf(r.Expr)).Distinct().Where(j => !jobs[j].InAzure).ToList();
            var why = missing.Count == 0
                ? "Enabled. " + string.Join(" ", group.Rules.SelectMany(r => JobsOf(r.Expr)).Distinct().Select(j => jobs[j].Why))
                : "Disabled: " + string.Join(" ", missing.Select(j => jobs[j].Why));

            groups.Add(new JsonObject
            {
                ["name"] = group.Name,
                ["enabled"] = missing.Count == 0,
                ["azure"] = why.TrimEnd(),
                ["rules"] = new JsonArray([.. group.Rules.Select(ToAzureRule)]),
            });
        }

        var document = new JsonObject
        {
            ["$comment"] = "Generated from containers/prometheus/rules/ishchat.rules.yml by IshChat.Tests/Azure/PrometheusRuleGroups.cs (infra/monitoring/generate-rule-groups.sh). Do not edit: edit the rules file and regenerate.",
            ["groups"] = groups,
        };
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return document.ToJsonString(options) + "\n";
    }

    private static JsonObject ToAzureRule(Rule rule)
    {
        var severity = rule.Labels.GetValueOrDefault("severity")
            ?? throw new InvalidOperationException($"{rule.Alert} has no severity label.");
        var azure = new JsonObject
        {
            ["alert"] = rule.Alert,
            // Block scalars (expr: |) end in a newline Prometheus ignores.
            ["expression"] = rule.Expr.Trim(),
        };
        if (rule.For is not null)
        {
            var local = ParseDuration(rule.For);
            azure["for"] = XmlConvert.ToString(local < shortestFor ? shortestFor : local);
        }

        azure["severity"] = severities.TryGetValue(severity, out var level)
            ? level
            : throw new InvalidOperationException($"{rule.Alert}: severity '{severity}' has no Azure equivalent here.");
        azure["labels"] = new JsonObject([.. rule.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]);
        azure["annotations"] = new JsonObject([.. rule.Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
        return azure;
    }

    public static IEnumerable<string> JobsOf(string expression) => JobSelector().Matches(expression).Select(m => m.Groups[1].Value);

    /// <summary>Prometheus durations: 10s, 1m, 1h30m, 500ms.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var parts = DurationPart().Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text)
        {
            throw new FormatException($"'{text}' is not a Prometheus duration.");
        }

        return parts.Aggregate(TimeSpan.Zero, (sum, part) => sum + (part.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "s" => TimeSpan.FromSeconds(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "m" => TimeSpan.FromMinutes(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "h" => TimeSpan.FromHours(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "d" => TimeSpan.FromDays(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            var unit => throw new FormatException($"Unit '{unit}' in '{text}' is not supported here."),
        }));
    }

    [GeneratedRegex("job=\"([^\"]+)\"")]
    private static partial Regex JobSelector();

    [GeneratedRegex("([0-9]+)(ms|s|m|h|d)")]
    private static partial Regex DurationPart();

    public sealed class RulesFile
    {
        public List<RuleGroup> Groups { get; set; } = [];
    }

    public sealed class RuleGroup
    {
        public string Name { get; set; } = "";

        public List<Rule> Rules { get; set; } = [];
    }

    public sealed class Rule
    {
        public string Alert { get; set; } = "";

        public string Expr { get; set; } = "";

        public string? For { get; set; }

        public Dictionary<string, string> Labels { get; set; } = [];

        public Dictionary<string, string> Annotations { get; set; } = [];
    }
}
