#!/usr/bin/env bash
# Regenerates infra/monitoring/prometheus-rule-groups.json from the local Prometheus rules
# (containers/prometheus/rules/ishchat.rules.yml), the one source of IshChat's alert rules.
# The generator is IshChat.Tests/Azure/PrometheusRuleGroups.cs; the same test that fails on drift
# rewrites the file when ISHCHAT_REGENERATE_AZURE_RULES=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
echo "generate-rule-groups: building the tests and regenerating infra/monitoring/prometheus-rule-groups.json" >&2
dotnet build IshChat.Tests -v quiet -clp:ErrorsOnly
ISHCHAT_REGENERATE_AZURE_RULES=1 dotnet test IshChat.Tests --no-build \
  --filter "FullyQualifiedName~RuleGroupTests.GeneratedRuleGroupsFileMatchesTheLocalPrometheusRulesFile"
git --no-pager diff --stat -- infra/monitoring/prometheus-rule-groups.json
