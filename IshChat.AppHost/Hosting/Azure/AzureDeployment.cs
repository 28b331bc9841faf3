using IshChat.ServiceDefaults;

namespace IshChat.AppHost.Hosting.Azure;

/// <summary>
/// The AppHost in publish mode (<c>--publisher manifest</c>): the system as it runs in Azure, not the
/// local cluster. (<c>--operation publish</c> writes the same manifest, then stops: Aspire 13.6's pipeline
/// wants a container registry for the projects' images, which only the Azure packages or an evaluation-only
/// API provide; docs/azure.md.) PostgreSQL, PgBouncer, Redis and monitoring are managed services
/// provisioned by <c>infra/</c> (docs/azure.md), so the model holds only what we build, the API and the
/// migration service, with their connection strings as secret parameters whose values are the Key Vault
/// secrets <c>infra/modules/secrets.bicep</c> writes (<c>ConnectionStrings--{name}</c>).
/// </summary>
public static class AzureDeployment
{
    /// <summary>The API's read-write connection: the writer endpoint, through the built-in PgBouncer.</summary>
    public const string ReadWriteConnectionName = ResourceNames.ChatDatabase;

    /// <summary>The API's read-only connection: the reader endpoint (a read replica), through PgBouncer.</summary>
    public const string ReadOnlyConnectionName = ResourceNames.ChatDatabaseReadOnly;

    /// <summary>The admin API's connection: the writer endpoint through PgBouncer, as its own role (the instance directory).</summary>
    public const string AdminConnectionName = ResourceNames.ChatDatabaseAdmin;

    /// <summary>The migrator's session connection to the primary (no pooler).</summary>
    public const string MigratorConnectionName = ResourceNames.ChatDatabaseMigrator;

    /// <summary>Azure Cache for Redis, TLS only.</summary>
    public const string RedisConnectionName = ResourceNames.Redis;

    /// <summary>The API's admin key, the same parameter name as locally.</summary>
    public const string AdminApiKeyParameterName = ResourceNames.ApiAdminKey;

    /// <summary>At least two, one per zone: Container Apps keeps the same floor (infra/modules/container-apps.bicep).</summary>
    public const int ApiReplicas = 2;

    /// <summary>
    /// In publish mode, builds the Azure model, publishes it and returns <c>true</c>: the caller stops, so
    /// none of the local cluster's containers is added. In run mode returns <c>false</c> and does nothing.
    /// </summary>
    public static bool TryPublishForAzure(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return false;
        }

        builder.AddAzureApplicationModel();
        using var app = builder.Build();
        app.Run();
        return true;
    }

    /// <summary>The API and the migration service, wired to connection strings the deployment supplies.</summary>
    public static IDistributedApplicationBuilder AddAzureApplicationModel(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Connection strings: parameters, secret, filled from Key Vault by whoever deploys the manifest.
        var chatDb = builder.AddConnectionString(ReadWriteConnectionName);
        var chatDbReadOnly = builder.AddConnectionString(ReadOnlyConnectionName);
        var chatDbAdmin = builder.AddConnectionString(AdminConnectionName);
        var migratorDb = builder.AddConnectionString(MigratorConnectionName);
        var redis = builder.AddConnectionString(RedisConnectionName);
        var adminApiKey = builder.AddParameter(AdminApiKeyParameterName, secret: true);

        // Schema first, to completion: in Azure a Container Apps job the predeploy hook runs.
        var migrations = builder.AddProject<Projects.IshChat_MigrationService>(ResourceNames.Migrations)
            .WithReference(migratorDb);

        builder.AddProject<Projects.IshChat_Api>(ResourceNames.Api)
            .WithReplicas(ApiReplicas)
            .WithReference(chatDb)
            .WithReference(chatDbReadOnly)
            .WithReference(chatDbAdmin)
            .WithReference(redis)
            .WithEnvironment("Chat__AdminApiKey", adminApiKey)
            .WithExternalHttpEndpoints()
            .WaitForCompletion(migrations);
        return builder;
    }
}
