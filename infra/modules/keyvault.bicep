// Key Vault: every secret of the deployment (passwords, connection strings), read by the container
// apps through their managed identity. Authorisation by Azure RBAC, never by access policies.

param location string
param namePrefix string
param tags object = {}

@description('Principal (the person or pipeline running azd) that may read and write secrets, e.g. for the migration tool.')
param operatorPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

// Key Vault names are global and at most 24 characters.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${replace(namePrefix, '-', '')}kv${uniqueString(resourceGroup().id)}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    // azd reads and writes secrets from the operator's machine (secretOrRandomPassword), so the
    // vault keeps a public endpoint; RBAC decides who gets in (docs/azure.md, "What differs").
    publicNetworkAccess: 'Enabled'
  }
}

// Key Vault Secrets Officer: read and write secret contents.
var secretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource operatorAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  scope: vault
  name: guid(vault.id, operatorPrincipalId, secretsOfficerRoleId)
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficerRoleId)
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
