// Peers the primary region's network with the DR region's, both ways, so the DR read replica
// (VNet-integrated in its own region) can stream from the primary and the API could reach it after a promote.

param primaryVnetName string
param drVnetName string

resource primary 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: primaryVnetName
}

resource dr 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: drVnetName
}

resource primaryToDr 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2024-05-01' = {
  parent: primary
  name: 'to-${drVnetName}'
  properties: {
    remoteVirtualNetwork: { id: dr.id }
    allowVirtualNetworkAccess: true
  }
}

resource drToPrimary 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2024-05-01' = {
  parent: dr
  name: 'to-${primaryVnetName}'
  properties: {
    remoteVirtualNetwork: { id: primary.id }
    allowVirtualNetworkAccess: true
  }
}
