// Azure Cache for Redis: the local Redis 8 cache. TLS only (port 6380, TLS 1.2 or newer), no public
// network access: the API reaches it through a private endpoint in its own network.

param location string
param namePrefix string

@allowed(['Basic', 'Standard', 'Premium'])
@description('Standard: a primary and a replica with automatic failover. Premium adds zones and persistence.')
param skuName string = 'Standard'

@allowed(['C', 'P'])
param skuFamily string = 'C'

@minValue(0)
@maxValue(6)
param skuCapacity int = 1

@description('Spread primary and replica over zones (Premium only).')
param zoneRedundant bool = false

param privateEndpointSubnetId string
param vnetId string
param tags object = {}

resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: '${namePrefix}-redis'
  location: location
  tags: tags
  zones: zoneRedundant && skuName == 'Premium' ? ['1', '2', '3'] : null
  properties: {
    sku: { name: skuName, family: skuFamily, capacity: skuCapacity }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Disabled'
    redisVersion: '6'
  }
}

resource dnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: 'privatelink.redis.cache.windows.net'
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

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: '${redis.name}-pe'
  location: location
  tags: tags
  properties: {
    subnet: { id: privateEndpointSubnetId }
    privateLinkServiceConnections: [
      {
        name: 'redis'
        properties: { privateLinkServiceId: redis.id, groupIds: ['redisCache'] }
      }
    ]
  }
}

resource endpointDns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [{ name: 'redis', properties: { privateDnsZoneId: dnsZone.id } }]
  }
}

output name string = redis.name
output hostName string = redis.properties.hostName
output sslPort int = redis.properties.sslPort
