// The seed's database alerts as Azure Monitor metric alerts on the servers' platform metrics: in Azure
// there is no postgres_exporter, Patroni or PgBouncer exporter for the Prometheus rules to read.

param namePrefix string
param serverName string
param replicaNames array
param actionGroupId string
param tags object = {}

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = {
  name: serverName
}

// name, metric, operator, threshold, severity (0 critical … 4 verbose), what it stands for locally.
var primaryAlerts = [
  { name: 'disk-usage-high', metric: 'storage_percent', operator: 'GreaterThan', threshold: 85, severity: 2, description: 'DiskUsageHigh: storage above 85 %.' }
  { name: 'postgres-down', metric: 'is_db_alive', operator: 'LessThan', threshold: 1, severity: 0, description: 'PostgresDown / PatroniNoLeader: the server does not answer.' }
  { name: 'pgbouncer-clients-waiting', metric: 'client_connections_waiting', operator: 'GreaterThan', threshold: 0, severity: 2, description: 'PgBouncerClientsWaiting: clients wait for a server connection.' }
  { name: 'query-timeouts', metric: 'longest_transaction_time_sec', operator: 'GreaterThan', threshold: 30, severity: 2, description: 'PostgresQueryTimeouts: a transaction has run for more than 30 s.' }
]

resource primary 'Microsoft.Insights/metricAlerts@2018-03-01' = [for alert in primaryAlerts: {
  name: '${namePrefix}-${alert.name}'
  location: 'global'
  tags: tags
  properties: {
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [server.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: alert.name
          metricName: alert.metric
          operator: alert.operator
          threshold: alert.threshold
          timeAggregation: alert.metric == 'is_db_alive' ? 'Minimum' : 'Maximum'
        }
      ]
    }
    actions: [{ actionGroupId: actionGroupId }]
  }
}]

resource replicaServers 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = [for name in replicaNames: {
  name: name
}]

// PostgresReplicationLagHigh: a replica more than 10 s behind.
resource replicationLag 'Microsoft.Insights/metricAlerts@2018-03-01' = [for (name, i) in replicaNames: {
  name: '${namePrefix}-replication-lag-${i}'
  location: 'global'
  tags: tags
  properties: {
    description: 'PostgresReplicationLagHigh: ${name} is more than 10 s behind the primary.'
    severity: 2
    enabled: true
    scopes: [replicaServers[i].id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'replication-lag'
          metricName: 'physical_replication_delay_in_seconds'
          operator: 'GreaterThan'
          threshold: 10
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [{ actionGroupId: actionGroupId }]
  }
}]
