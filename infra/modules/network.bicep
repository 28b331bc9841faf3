// One virtual network per region: Container Apps, PostgreSQL (VNet integration) and private endpoints
// each get their own subnet, so nothing of the data tier is reachable from the internet.

@description('Region of this network.')
param location string

@description('Prefix of every resource name, e.g. ishchat-dev.')
param namePrefix string

@description('Address space of the network; each region needs its own so the two can be peered.')
param addressPrefix string = '10.40.0.0/16'

param tags object = {}

// Carve /23 (Container Apps' minimum for workload profile environments is /27; a /23 leaves room to scale)
// and /24 subnets out of the address space.
var appsSubnetPrefix = cidrSubnet(addressPrefix, 23, 0)
var postgresSubnetPrefix = cidrSubnet(addressPrefix, 24, 2)
var privateEndpointSubnetPrefix = cidrSubnet(addressPrefix, 24, 3)

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${namePrefix}-vnet-${location}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: appsSubnetPrefix
          delegations: [{ name: 'containerapps', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        // A Flexible Server with private access needs a subnet delegated to it alone.
        name: 'postgres'
        properties: {
          addressPrefix: postgresSubnetPrefix
          delegations: [{ name: 'postgres', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } }]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output vnetId string = vnet.id
output vnetName string = vnet.name
output appsSubnetId string = '${vnet.id}/subnets/apps'
output postgresSubnetId string = '${vnet.id}/subnets/postgres'
output privateEndpointSubnetId string = '${vnet.id}/subnets/private-endpoints'
