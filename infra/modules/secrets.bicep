// The connection strings the API and the migration job read, written to Key Vault under the names
// the application asks for (ConnectionStrings:chatdb → secret ConnectionStrings--chatdb). The names
// are the AppHost's connection names; IshChat.Tests/Azure checks both sides agree.

param keyVaultName string
param redisName string

param postgresReadWriteHost string
param postgresReadOnlyHost string
param postgresServerFqdn string
param databaseName string
param administratorLogin string

@secure()
param administratorPassword string

@secure()
param appPassword string

@secure()
param migratorPassword string

@secure()
param adminApiPassword string

@secure()
param importerPassword string

@secure()
param apiAdminKey string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource redis 'Microsoft.Cache/redis@2024-11-01' existing = {
  name: redisName
}

// The API goes through the built-in PgBouncer (6432, transaction pooling) as locally; the virtual
// endpoints' names are not in the server certificate (*.postgres.database.azure.com covers one label),
// so TLS there verifies the chain (VerifyCA). The migrator needs a session (DDL, DbUp's journal):
// PostgreSQL itself on 5432 of the primary, whose own name the certificate covers (VerifyFull).
var apiOptions = 'Port=6432;Database=${databaseName};Username=ishchat_app;SSL Mode=VerifyCA;No Reset On Close=true'

var secrets = {
  'ConnectionStrings--chatdb': 'Host=${postgresReadWriteHost};${apiOptions};Password=${appPassword}'
  'ConnectionStrings--chatdb-readonly': 'Host=${postgresReadOnlyHost};${apiOptions};Password=${appPassword}'
  'ConnectionStrings--chatdb-admin': 'Host=${postgresReadWriteHost};Port=6432;Database=${databaseName};Username=ishchat_admin;SSL Mode=VerifyCA;No Reset On Close=true;Password=${adminApiPassword}'
  'ConnectionStrings--chatdb-migrator': 'Host=${postgresServerFqdn};Port=5432;Database=${databaseName};Username=ishchat_migrator;Password=${migratorPassword};SSL Mode=VerifyFull'
  'ConnectionStrings--redis': '${redis.properties.hostName}:${redis.properties.sslPort},password=${redis.listKeys().primaryKey},ssl=True,abortConnect=False'
  'postgres-admin-login': administratorLogin
  'postgres-admin-password': administratorPassword
  'postgres-app-password': appPassword
  'postgres-migrator-password': migratorPassword
  'postgres-admin-api-password': adminApiPassword
  'postgres-importer-password': importerPassword
  'api-admin-key': apiAdminKey
}

// The names alone drive the loop: they are known before the deployment starts, the values are not.
var secretNames = [
  'ConnectionStrings--chatdb'
  'ConnectionStrings--chatdb-readonly'
  'ConnectionStrings--chatdb-admin'
  'ConnectionStrings--chatdb-migrator'
  'ConnectionStrings--redis'
  'postgres-admin-login'
  'postgres-admin-password'
  'postgres-app-password'
  'postgres-migrator-password'
  'postgres-admin-api-password'
  'postgres-importer-password'
  'api-admin-key'
]

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for name in secretNames: {
  parent: vault
  name: name
  properties: { value: secrets[name] }
}]

@description('Secret name → URI without version, so a rotated secret is picked up on the next revision.')
output secretUris object = toObject(secretNames, name => name, name => '${vault.properties.vaultUri}secrets/${name}')
