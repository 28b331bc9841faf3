// The chat API and its migration job on Azure Container Apps, in the private network. The API: at
// least two replicas across zones, health probes on the service defaults' /health and /alive, scaled
// by concurrent HTTP requests. The migration job: run to completion before each API deployment
// (infra/scripts/run-migrations.sh, azd's predeploy hook), after an init container has made the roles.

param location string
param namePrefix string
param tags object = {}

param appsSubnetId string
param zoneRedundant bool = true
param logAnalyticsWorkspaceName string
param identityId string
param registryLoginServer string

@description('Key Vault secret name → URI (modules/secrets.bicep).')
param secretUris object

@description('The API image; empty before azd has deployed one (a placeholder runs until then).')
param apiImage string = ''

@description('The migration image; empty before the predeploy hook has pushed one.')
param migrationsImage string = ''

@description('The psql client the init container runs (PostgreSQL 17 client for a PostgreSQL 17 server).')
param psqlImage string = 'docker.io/library/postgres:17.6-bookworm'

@minValue(2)
@description('Never fewer than two: one replica per zone survives a zone or a revision restart.')
param apiMinReplicas int = 2

@minValue(2)
param apiMaxReplicas int = 10

@description('Concurrent requests per replica before another one starts.')
param apiConcurrentRequests int = 100

param apiCpu string = '0.5'
param apiMemory string = '1Gi'

param databaseName string = 'ishchat'

@description('The primary server\'s name: roles are made over a session to it, not through PgBouncer.')
param postgresServerFqdn string

// Until azd deploys the real image: Microsoft's sample, as azd's own templates do.
var placeholderImage = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'
// The API listens on 8080 (the .NET container default); /metrics is on the same port here.
var apiPort = 8080

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-apps'
  location: location
  tags: tags
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: appsSubnetId
      internal: false
    }
    zoneRedundant: zoneRedundant
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

// Container Apps secrets are Key Vault references read with the apps' identity; the names are the
// vault's, lower-cased (Container Apps secret names allow lower case, digits and '-').
var apiSecrets = ['ConnectionStrings--chatdb', 'ConnectionStrings--chatdb-readonly', 'ConnectionStrings--chatdb-admin', 'ConnectionStrings--redis', 'api-admin-key']
var jobSecrets = ['ConnectionStrings--chatdb-migrator', 'postgres-admin-login', 'postgres-admin-password', 'postgres-app-password', 'postgres-migrator-password', 'postgres-admin-api-password', 'postgres-importer-password']

resource api 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-api'
  location: location
  // azd finds the app to deploy to by this tag (azure.yaml: services.api).
  tags: union(tags, { 'azd-service-name': 'api' })
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identityId}': {} } }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: apiPort
        transport: 'http'
        allowInsecure: false
      }
      registries: [{ server: registryLoginServer, identity: identityId }]
      secrets: [for name in apiSecrets: { name: toLower(name), keyVaultUrl: secretUris[name], identity: identityId }]
    }
    template: {
      containers: [
        {
          name: 'api'
          image: empty(apiImage) ? placeholderImage : apiImage
          resources: { cpu: json(apiCpu), memory: apiMemory }
          env: [
            { name: 'ASPNETCORE_HTTP_PORTS', value: string(apiPort) }
            { name: 'ConnectionStrings__chatdb', secretRef: 'connectionstrings--chatdb' }
            { name: 'ConnectionStrings__chatdb-readonly', secretRef: 'connectionstrings--chatdb-readonly' }
            { name: 'ConnectionStrings__chatdb-admin', secretRef: 'connectionstrings--chatdb-admin' }
            { name: 'ConnectionStrings__redis', secretRef: 'connectionstrings--redis' }
            { name: 'Chat__AdminApiKey', secretRef: 'api-admin-key' }
          ]
          probes: [
            // Startup: /health checks PostgreSQL (both data sources) and Redis, so a revision with a wrong
            // connection string never starts serving and the running revision keeps the traffic.
            { type: 'Startup', httpGet: { path: '/health', port: apiPort }, periodSeconds: 2, failureThreshold: 30 }
            // Liveness and readiness: the process answers (/alive, no dependencies). Every replica shares the
            // same dependencies, so a dependency check here would take them all out at once, while the API
            // itself degrades gracefully (the cache steps aside without Redis).
            { type: 'Liveness', httpGet: { path: '/alive', port: apiPort }, periodSeconds: 10, failureThreshold: 3 }
            { type: 'Readiness', httpGet: { path: '/alive', port: apiPort }, periodSeconds: 5, failureThreshold: 3 }
          ]
        }
      ]
      scale: {
        minReplicas: apiMinReplicas
        maxReplicas: apiMaxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: { metadata: { concurrentRequests: string(apiConcurrentRequests) } }
          }
        ]
      }
    }
  }
}

// The init container's script: psql reads the SQL from a here-document, so meta-commands work, except
// \ir, which has no file to be relative to: the importer role's definition, shared with the local
// cluster's bootstrap, goes in place of the line that includes it.
var importerRoleInclude = '\\ir ../../containers/patroni/importer-role.sql'
var bootstrapSql = replace(loadTextContent('../postgres/bootstrap-roles.sql'), importerRoleInclude, loadTextContent('../../containers/patroni/importer-role.sql'))

resource migrations 'Microsoft.App/jobs@2024-03-01' = {
  name: '${namePrefix}-migrations'
  location: location
  tags: union(tags, { 'ishchat-role': 'migrations' })
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identityId}': {} } }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      // Started by the predeploy hook, never by a schedule or an event.
      triggerType: 'Manual'
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      // SchemaMigrator retries transient errors for 60 s itself; one more attempt covers a failover.
      replicaRetryLimit: 1
      replicaTimeout: 600
      registries: [{ server: registryLoginServer, identity: identityId }]
      secrets: [for name in jobSecrets: { name: toLower(name), keyVaultUrl: secretUris[name], identity: identityId }]
    }
    template: {
      initContainers: [
        {
          name: 'roles'
          image: psqlImage
          command: ['/bin/sh', '-c', 'psql --no-psqlrc <<\'SQL\'\n${bootstrapSql}\nSQL\n']
          resources: { cpu: json('0.25'), memory: '0.5Gi' }
          env: [
            { name: 'PGHOST', value: postgresServerFqdn }
            { name: 'PGDATABASE', value: 'postgres' }
            { name: 'PGSSLMODE', value: 'verify-full' }
            // The service's certificates chain to public roots the Debian image trusts.
            { name: 'PGSSLROOTCERT', value: 'system' }
            { name: 'PGUSER', secretRef: 'postgres-admin-login' }
            { name: 'PGPASSWORD', secretRef: 'postgres-admin-password' }
            { name: 'ISHCHAT_DATABASE', value: databaseName }
            { name: 'ISHCHAT_APP_PASSWORD', secretRef: 'postgres-app-password' }
            { name: 'ISHCHAT_MIGRATOR_PASSWORD', secretRef: 'postgres-migrator-password' }
            { name: 'ISHCHAT_ADMIN_PASSWORD', secretRef: 'postgres-admin-api-password' }
            { name: 'ISHCHAT_IMPORTER_PASSWORD', secretRef: 'postgres-importer-password' }
          ]
        }
      ]
      containers: [
        {
          name: 'migrations'
          image: empty(migrationsImage) ? placeholderImage : migrationsImage
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: [
            { name: 'ConnectionStrings__chatdb-migrator', secretRef: 'connectionstrings--chatdb-migrator' }
          ]
        }
      ]
    }
  }
}

output environmentName string = environment.name
output environmentDefaultDomain string = environment.properties.defaultDomain
output apiName string = api.name
output apiFqdn string = api.properties.configuration.ingress.fqdn
output migrationsJobName string = migrations.name
