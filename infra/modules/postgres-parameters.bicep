// Server parameters of one Flexible Server (primary or replica). Applied one at a time: the service
// rejects concurrent configuration updates on a server ("ServerIsBusy").

param serverName string

@description('Parameter name → value; every value a string, as the service expects.')
param parameters object

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = {
  name: serverName
}

@batchSize(1)
resource configuration 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = [for item in items(parameters): {
  parent: server
  name: item.key
  properties: {
    value: item.value
    source: 'user-override'
  }
}]
