// The registry azd pushes the API's and the migration job's images to; the apps pull with their
// managed identity (AcrPull), no admin user.

param location string
param namePrefix string
param tags object = {}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: take('${replace(namePrefix, '-', '')}acr${uniqueString(resourceGroup().id)}', 50)
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
