using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using IshChat.MigrationService;

// Applies the chat schema once, before the API starts: the AppHost runs this to completion and
// only then starts the API replicas, so they never race each other over DDL.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
using var host = builder.Build();

var connectionString = builder.Configuration.GetConnectionString(SchemaMigrator.ConnectionName)
    ?? throw new InvalidOperationException($"The connection string '{SchemaMigrator.ConnectionName}' is missing.");
var logger = host.Services.GetRequiredService<ILogger<SchemaMigrator>>();
return await new SchemaMigrator(connectionString, logger).MigrateAsync(CancellationToken.None) ? 0 : 1;
