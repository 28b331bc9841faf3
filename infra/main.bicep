// IshChat in Azure: every part of the local cluster mapped to the managed service that keeps the
// same promise (docs/azure.md). azd provisions this file (`azd provision`, or `azd up`), then
// deploys the API into the container app tagged azd-service-name=api.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name (AZURE_ENV_NAME); names the resource group and prefixes resources.')
param environmentName string

@minLength(1)
@description('Primary region (AZURE_LOCATION); it must have availability zones for zone-redundant HA.')
param location string

@description('Region of the disaster-recovery read replica, normally the primary\'s paired region; empty: none.')
param drLocation string = ''

@description('Zone-redundant: PostgreSQL standby, Container Apps environment and Grafana across zones.')
param zoneRedundant bool = true

@minValue(0)
@maxValue(5)
@description('In-region PostgreSQL read replicas; the local cluster runs 3 streaming replicas.')
param postgresReplicaCount int = 3

param postgresSkuName string = 'Standard_D2ds_v5'

@allowed(['GeneralPurpose', 'MemoryOptimized'])
param postgresSkuTier string = 'GeneralPurpose'

param postgresStorageSizeGB int = 128

@allowed(['Basic', 'Standard', 'Premium'])
param redisSkuName string = 'Standard'

@allowed(['C', 'P'])
param redisSkuFamily string = 'C'

param redisSkuCapacity int = 1

@minValue(2)
param apiMinReplicas int = 2

@minValue(2)
param apiMaxReplicas int = 10

@description('Email address alerts are sent to; empty: alerts only show in the portal.')
param alertEmail string = ''

@description('The operator running azd (AZURE_PRINCIPAL_ID): may read secrets and administer Grafana.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@secure()
@description('PostgreSQL administrator password; azd generates it once and keeps it in Key Vault.')
param postgresAdminPassword string

@secure()
param postgresAppPassword string

@secure()
param postgresMigratorPassword string

@secure()
@description('The admin API\'s own role (ishchat_admin): the instance directory, which the tenant role may not touch.')
param postgresAdminApiPassword string

@secure()
@description('The legacy import\'s bulk COPY role (ishchat_importer, docs/migration.md); the operator\'s ishchat-migrate reads it from Key Vault.')
param postgresImporterPassword string

@secure()
@description('The API\'s admin key (Chat:AdminApiKey), as the local api-admin-key parameter.')
param apiAdminKey string

@description('Set by azd after a deployment (SERVICE_API_IMAGE_NAME), so provisioning again keeps the running image.')
param apiImage string = ''

@description('Set by the predeploy hook (MIGRATIONS_IMAGE).')
param migrationsImage string = ''

var tags = { 'azd-env-name': environmentName, application: 'ishchat' }
// Short enough for the 32-character Container Apps names; the suffix keeps global names (servers, vaults) unique.
var namePrefix = 'ishchat-${take(toLower(environmentName), 8)}-${take(uniqueString(subscription().id, environmentName), 4)}'
var hasDr = !empty(drLocation)

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module network 'modules/network.bicep' = {
  scope: group
  name: 'network'
  params: { location: location, namePrefix: namePrefix, addressPrefix: '10.40.0.0/16', tags: tags }
}

module drNetwork 'modules/network.bicep' = if (hasDr) {
  scope: group
  name: 'network-dr'
  params: { location: hasDr ? drLocation : location, namePrefix: namePrefix, addressPrefix: '10.41.0.0/16', tags: tags }
}

module peering 'modules/network-peering.bicep' = if (hasDr) {
  scope: group
  name: 'network-peering'
  params: { primaryVnetName: network.outputs.vnetName, drVnetName: drNetwork!.outputs.vnetName }
}

module postgres 'modules/postgres.bicep' = {
  scope: group
  name: 'postgres'
  params: {
    location: location
    namePrefix: namePrefix
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    zoneRedundant: zoneRedundant
    replicaCount: postgresReplicaCount
    drLocation: drLocation
    drSubnetId: hasDr ? drNetwork!.outputs.postgresSubnetId : ''
    drVnetId: hasDr ? drNetwork!.outputs.vnetId : ''
    subnetId: network.outputs.postgresSubnetId
    vnetId: network.outputs.vnetId
    administratorPassword: postgresAdminPassword
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    tags: tags
  }
  dependsOn: [peering]
}

module redis 'modules/redis.bicep' = {
  scope: group
  name: 'redis'
  params: {
    location: location
    namePrefix: namePrefix
    skuName: redisSkuName
    skuFamily: redisSkuFamily
    skuCapacity: redisSkuCapacity
    zoneRedundant: zoneRedundant
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: group
  name: 'keyvault'
  params: { location: location, namePrefix: namePrefix, operatorPrincipalId: principalId, operatorPrincipalType: principalType, tags: tags }
}

module secrets 'modules/secrets.bicep' = {
  scope: group
  name: 'secrets'
  params: {
    keyVaultName: keyVault.outputs.name
    redisName: redis.outputs.name
    postgresReadWriteHost: postgres.outputs.readWriteHost
    postgresReadOnlyHost: postgres.outputs.readOnlyHost
    postgresServerFqdn: postgres.outputs.serverFqdn
    databaseName: postgres.outputs.databaseName
    administratorLogin: postgres.outputs.administratorLogin
    administratorPassword: postgresAdminPassword
    appPassword: postgresAppPassword
    migratorPassword: postgresMigratorPassword
    adminApiPassword: postgresAdminApiPassword
    importerPassword: postgresImporterPassword
    apiAdminKey: apiAdminKey
  }
}

module registry 'modules/registry.bicep' = {
  scope: group
  name: 'registry'
  params: { location: location, namePrefix: namePrefix, tags: tags }
}

module identity 'modules/identity.bicep' = {
  scope: group
  name: 'identity'
  params: { location: location, namePrefix: namePrefix, keyVaultName: keyVault.outputs.name, registryName: registry.outputs.name, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  name: 'monitoring'
  params: {
    location: location
    namePrefix: namePrefix
    alertEmail: alertEmail
    zoneRedundant: zoneRedundant
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
    tags: tags
  }
}

module postgresAlerts 'modules/postgres-alerts.bicep' = {
  scope: group
  name: 'postgres-alerts'
  params: {
    namePrefix: namePrefix
    serverName: postgres.outputs.serverName
    replicaNames: postgres.outputs.replicaNames
    actionGroupId: monitoring.outputs.actionGroupId
    tags: tags
  }
}

module apps 'modules/container-apps.bicep' = {
  scope: group
  name: 'container-apps'
  params: {
    location: location
    namePrefix: namePrefix
    appsSubnetId: network.outputs.appsSubnetId
    zoneRedundant: zoneRedundant
    logAnalyticsWorkspaceName: monitoring.outputs.logAnalyticsWorkspaceName
    identityId: identity.outputs.id
    registryLoginServer: registry.outputs.loginServer
    secretUris: secrets.outputs.secretUris
    apiImage: apiImage
    migrationsImage: migrationsImage
    apiMinReplicas: apiMinReplicas
    apiMaxReplicas: apiMaxReplicas
    databaseName: postgres.outputs.databaseName
    postgresServerFqdn: postgres.outputs.serverFqdn
  }
}

// azd keeps every output in the environment (.azure/<env>/.env): the hooks and the docs' commands use them.
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = apps.outputs.environmentName
output MIGRATIONS_JOB_NAME string = apps.outputs.migrationsJobName
output API_URL string = 'https://${apps.outputs.apiFqdn}'
output POSTGRES_SERVER_NAME string = postgres.outputs.serverName
output POSTGRES_DR_REPLICA_NAME string = postgres.outputs.drReplicaName
output GRAFANA_ENDPOINT string = monitoring.outputs.grafanaEndpoint
