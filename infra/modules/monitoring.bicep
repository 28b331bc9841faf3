// What Prometheus, Alertmanager and Grafana do locally: an Azure Monitor workspace (managed
// Prometheus) holding the seed's alert rules as Prometheus rule groups, an action group that
// mails the alerts, Azure Managed Grafana on top, and a Log Analytics workspace for the apps' logs.

param location string
param namePrefix string
param tags object = {}

@description('Where alerts go; empty: the action group has no receiver (alerts show in the portal only).')
param alertEmail string = ''

@description('Grafana zone redundancy (Standard SKU).')
param zoneRedundant bool = true

@description('Principal (the operator running azd) made Grafana Admin; empty: none.')
param operatorPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

// Generated from containers/prometheus/rules/ishchat.rules.yml (one source; IshChat.Tests/Azure
// regenerates it and fails when the two drift).
var ruleFile = loadJsonContent('../monitoring/prometheus-rule-groups.json')

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource prometheus 'Microsoft.Monitor/accounts@2023-04-03' = {
  name: '${namePrefix}-prometheus'
  location: location
  tags: tags
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'ishchat'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [{ name: 'operator', emailAddress: alertEmail, useCommonAlertSchema: true }]
  }
}

// One Azure rule group per local group, same names, same expressions. A group whose metrics have no
// source in Azure (Patroni, etcd, the node exporter…) is created disabled; ruleFile says why.
resource ruleGroups 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = [for group in ruleFile.groups: {
  name: group.name
  location: location
  tags: tags
  properties: {
    description: group.azure
    enabled: group.enabled
    // Azure evaluates rule groups at most once a minute.
    interval: 'PT1M'
    scopes: [prometheus.id]
    rules: [for rule in group.rules: {
      alert: rule.alert
      expression: rule.expression
      for: rule.?for
      severity: rule.severity
      labels: rule.labels
      annotations: rule.annotations
      enabled: true
      actions: [{ actionGroupId: actionGroup.id }]
    }]
  }
}]

resource grafana 'Microsoft.Dashboard/grafana@2024-10-01' = {
  name: take('${namePrefix}-grafana', 23)
  location: location
  tags: tags
  sku: { name: 'Standard' }
  identity: { type: 'SystemAssigned' }
  properties: {
    zoneRedundancy: zoneRedundant ? 'Enabled' : 'Disabled'
    publicNetworkAccess: 'Enabled'
    apiKey: 'Disabled'
    grafanaIntegrations: {
      azureMonitorWorkspaceIntegrations: [{ azureMonitorWorkspaceResourceId: prometheus.id }]
    }
  }
}

// Grafana reads the Prometheus workspace and the resource group's platform metrics with its own identity.
var monitoringDataReaderRoleId = 'b0d8363b-8ddd-447d-831f-62ca05bff136'
var monitoringReaderRoleId = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
var grafanaAdminRoleId = '22926164-76b3-42b3-bc55-97df8dab3e41'

resource grafanaReadsPrometheus 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: prometheus
  name: guid(prometheus.id, grafana.id, monitoringDataReaderRoleId)
  properties: {
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringDataReaderRoleId)
  }
}

resource grafanaReadsMetrics 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, grafana.id, monitoringReaderRoleId)
  properties: {
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReaderRoleId)
  }
}

resource operatorIsGrafanaAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  scope: grafana
  name: guid(grafana.id, operatorPrincipalId, grafanaAdminRoleId)
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grafanaAdminRoleId)
  }
}

output logAnalyticsWorkspaceName string = logs.name
output logAnalyticsWorkspaceId string = logs.id
output prometheusWorkspaceId string = prometheus.id
output actionGroupId string = actionGroup.id
output grafanaEndpoint string = grafana.properties.endpoint
