// Azure Database for PostgreSQL Flexible Server: what Patroni + etcd + HAProxy + PgBouncer do locally.
// Zone-redundant HA (a synchronous standby in another zone, automatic failover), read replicas behind
// the read-only virtual endpoint, built-in PgBouncer, 30-day backups copied to the paired region,
// an optional read replica in a second region for disaster recovery. Private access only.

@description('Region of the primary server and its in-region replicas.')
param location string

@description('Prefix of every resource name, e.g. ishchat-dev.')
param namePrefix string

@description('PostgreSQL major version; 17, as the local cluster.')
param version string = '17'

@description('Compute SKU. Zone-redundant HA needs General Purpose or Memory Optimized, not Burstable.')
param skuName string = 'Standard_D2ds_v5'

@allowed(['GeneralPurpose', 'MemoryOptimized'])
param skuTier string = 'GeneralPurpose'

@description('Storage per server, GiB; grows automatically.')
param storageSizeGB int = 128

@description('true: the standby runs in another availability zone. false: in the same zone (regions without zones).')
param zoneRedundant bool = true

@description('Zone of the primary; the standby goes to standbyZone.')
param primaryZone string = '1'
param standbyZone string = '2'

@description('In-region read replicas; the local cluster has 3 streaming replicas.')
@minValue(0)
@maxValue(5)
param replicaCount int = 3

@description('Region of the disaster-recovery read replica (the paired region); empty: none.')
param drLocation string = ''

@description('Delegated subnet of the DR region; required when drLocation is set.')
param drSubnetId string = ''

@description('Network of the DR region, linked to the private DNS zone; required when drLocation is set.')
param drVnetId string = ''

param subnetId string
param vnetId string

@description('Name of the chat database.')
param databaseName string = 'ishchat'

param administratorLogin string = 'ishchat_admin'

@description('Log Analytics workspace the server log (pgaudit\'s lines among it) is sent to; empty: none.')
param logAnalyticsWorkspaceId string = ''

@secure()
param administratorPassword string

param tags object = {}

var serverName = '${namePrefix}-pg'
var hasDrReplica = !empty(drLocation)

// Everything the local cluster promises that the server can be told; each value a string, as the API expects.
var serverParameters = {
  // TLS required on every connection (the default, stated so a portal change shows up as drift).
  require_secure_transport: 'on'
  // The built-in PgBouncer on port 6432, transaction pooling as locally (containers/pgbouncer).
  'pgbouncer.enabled': 'true'
  'pgbouncer.pool_mode': 'transaction'
  // The API prepares hot statements; PgBouncer re-prepares them per server connection (as locally).
  'pgbouncer.max_prepared_statements': '200'
  // PgBouncer's own metrics (clients waiting, pool use) for the alerts below.
  'metrics.pgbouncer_diagnostics': 'on'
  // Longest transaction and the like, for the query-timeout alert.
  'metrics.collector_database_activity': 'on'
  // pgaudit preloaded and allowed; the service restarts the server to apply a preload change.
  shared_preload_libraries: 'pg_cron,pg_stat_statements,pgaudit'
  'azure.extensions': 'PGAUDIT,PG_STAT_STATEMENTS'
  'pgaudit.log': 'ddl,role'
}

// Replicas take their own copy of the parameters that matter to clients: TLS and the pooler.
var replicaParameters = {
  require_secure_transport: 'on'
  'pgbouncer.enabled': 'true'
  'pgbouncer.pool_mode': 'transaction'
  'pgbouncer.max_prepared_statements': '200'
}

// Private access: the server gets an address in the delegated subnet and a name in this zone.
resource dnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: '${serverName}.private.postgres.database.azure.com'
  location: 'global'
  tags: tags
}

resource dnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: dnsZone
  name: 'primary'
  location: 'global'
  properties: {
    virtualNetwork: { id: vnetId }
    registrationEnabled: false
  }
}

resource drDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = if (hasDrReplica) {
  parent: dnsZone
  name: 'dr'
  location: 'global'
  properties: {
    virtualNetwork: { id: drVnetId }
    registrationEnabled: false
  }
}

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: serverName
  location: location
  tags: tags
  sku: { name: skuName, tier: skuTier }
  properties: {
    version: version
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorPassword
    authConfig: { passwordAuth: 'Enabled', activeDirectoryAuth: 'Disabled' }
    availabilityZone: primaryZone
    storage: { storageSizeGB: storageSizeGB, autoGrow: 'Enabled' }
    // Locally: WAL archiving, daily base backups, PITR, 30 days kept. Here: the service's backups,
    // 30 days of point-in-time restore, copied to the paired region (settable only at creation).
    backup: { backupRetentionDays: 30, geoRedundantBackup: 'Enabled' }
    highAvailability: {
      mode: zoneRedundant ? 'ZoneRedundant' : 'SameZone'
      standbyAvailabilityZone: zoneRedundant ? standbyZone : primaryZone
    }
    network: {
      delegatedSubnetResourceId: subnetId
      privateDnsZoneArmResourceId: dnsZone.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [dnsLink]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// pgaudit writes to the server log; sending it to Log Analytics makes the audit trail searchable and
// keeps it when the server is gone.
resource serverLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  scope: server
  name: 'server-logs'
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ category: 'PostgreSQLLogs', enabled: true }]
  }
}

module serverConfiguration 'postgres-parameters.bicep' = {
  name: '${serverName}-parameters'
  params: { serverName: server.name, parameters: serverParameters }
}

// Replicas are created one after another: the service copies the primary's storage for each.
@batchSize(1)
resource replicas 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = [for i in range(0, replicaCount): {
  name: '${serverName}-replica-${i}'
  location: location
  tags: tags
  sku: { name: skuName, tier: skuTier }
  properties: {
    createMode: 'Replica'
    sourceServerResourceId: server.id
    // Spread over the zones like the local replicas over hosts.
    availabilityZone: string((i % 3) + 1)
    storage: { storageSizeGB: storageSizeGB, autoGrow: 'Enabled' }
    network: {
      delegatedSubnetResourceId: subnetId
      privateDnsZoneArmResourceId: dnsZone.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [serverConfiguration, database]
}]

@batchSize(1)
module replicaConfiguration 'postgres-parameters.bicep' = [for i in range(0, replicaCount): {
  name: '${serverName}-replica-${i}-parameters'
  params: { serverName: replicas[i].name, parameters: replicaParameters }
}]

// The disaster-recovery copy: a read replica in the paired region, promoted by hand (docs/azure.md).
resource drReplica 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = if (hasDrReplica) {
  name: '${serverName}-dr'
  location: hasDrReplica ? drLocation : location
  tags: tags
  sku: { name: skuName, tier: skuTier }
  properties: {
    createMode: 'Replica'
    sourceServerResourceId: server.id
    storage: { storageSizeGB: storageSizeGB, autoGrow: 'Enabled' }
    network: {
      delegatedSubnetResourceId: drSubnetId
      privateDnsZoneArmResourceId: dnsZone.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [replicas, drDnsLink]
}

module drReplicaConfiguration 'postgres-parameters.bicep' = if (hasDrReplica) {
  name: '${serverName}-dr-parameters'
  params: { serverName: drReplica!.name, parameters: replicaParameters }
}

// One writer and one reader name: the writer follows a promotion, the reader names the first replica
// (Azure's virtual endpoint takes one member; HAProxy spread reads over all three).
resource virtualEndpoint 'Microsoft.DBforPostgreSQL/flexibleServers/virtualendpoints@2024-08-01' = if (replicaCount > 0) {
  parent: server
  name: '${namePrefix}-ve'
  properties: {
    endpointType: 'ReadWrite'
    members: [replicas[0].name]
  }
  dependsOn: [replicaConfiguration]
}

output serverName string = server.name
output serverFqdn string = server.properties.fullyQualifiedDomainName
// The service lists the pair as [writer, reader] (REST API reference example for virtualEndpoints).
@description('The read-write name: the virtual endpoint\'s writer, which follows a promotion; the server itself when there is no replica.')
output readWriteHost string = replicaCount > 0 ? virtualEndpoint!.properties.virtualEndpoints[0] : server.properties.fullyQualifiedDomainName
@description('The read-only name: the virtual endpoint\'s reader (one replica), else the primary.')
output readOnlyHost string = replicaCount > 0 ? virtualEndpoint!.properties.virtualEndpoints[1] : server.properties.fullyQualifiedDomainName
output replicaNames array = [for i in range(0, replicaCount): replicas[i].name]
output drReplicaName string = hasDrReplica ? drReplica!.name : ''
output databaseName string = database.name
output administratorLogin string = administratorLogin
