using IshChat.Api.Auth;
using IshChat.Api.Caching;
using IshChat.Api.Cluster;
using IshChat.Api.Data;
using IshChat.Api.Devices;
using IshChat.Api.Diagnostics;
using IshChat.Api.Instances;
using IshChat.Api.Limits;
using IshChat.Api.Messages;
using IshChat.Api.Sessions;
using Aspire.Npgsql;
using Scalar.AspNetCore;
using StackExchange.Redis;
using IshChat.ServiceDefaults;

namespace IshChat.Api;

public static class ChatApiSetup
{
    /// <summary>Well above a 4000-character message in JSON (up to 4 bytes a character, escaped), far below harm.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    public static WebApplicationBuilder AddChatApi(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes);

        // Hot queries are prepared automatically after their second use; PgBouncer 1.24
        // (max_prepared_statements) re-prepares them on whichever server connection a transaction gets.
        // The chat's transactions use ChatDataSources (one data source per PgBouncer, SpreadDataSource); these
        // registrations serve the health checks, /cluster/route and the admin API.
        // Spans of every command only where traces are exported (Extensions.ExportsTraces); Npgsql's activity source
        // is listened to for the whole process, so this also decides for ChatDataSources' own data sources.
        var traced = Extensions.ExportsTraces(builder.Configuration);
        void Tracing(NpgsqlSettings settings) => settings.DisableTracing = !traced;
        builder.AddNpgsqlDataSource(ChatDatabase.ReadWriteName, Tracing, PrepareHotQueries);
        builder.AddKeyedNpgsqlDataSource(ChatDatabase.ReadOnlyName, Tracing, PrepareHotQueries);
        // Each instance type's own PgBouncer pools, where the configuration names them (the HA AppHost does).
        foreach (var name in ChatDataSources.InstanceTypeConnectionNames.Where(n => !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(n))))
        {
            builder.AddKeyedNpgsqlDataSource(name, Tracing, PrepareHotQueries);
        }
        // The admin API's own role: the tenant role can neither list nor create instances or keys.
        builder.AddKeyedNpgsqlDataSource(ChatDatabase.AdminName, Tracing);

        // Fail fast while Redis is away instead of queueing commands for seconds: the cache steps aside.
        builder.AddRedisClient(ResourceNames.Redis, settings => settings.DisableTracing = !traced, options =>
        {
            options.AbortOnConnectFail = false;
            options.BacklogPolicy = BacklogPolicy.FailFast;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = options.AsyncTimeout = 1000;
            // Replies are read on the .NET thread pool, not on the client's own reader threads: in the bench's profile those
            // threads took 11 % of the API's CPU, and each reply woke one of them only to hand the result to the pool.
            options.SocketManager = SocketManager.ThreadPool;
            // The AppHost's Redis serves a certificate from the cluster CA: trust that CA alone (docs/security.md).
            if (builder.Configuration[RedisTls.CertificateAuthorityFileKey] is { Length: > 0 } certificateAuthorityFile)
            {
                options.CertificateValidation += RedisTls.TrustOnly(certificateAuthorityFile);
            }
        });
        builder.Services.AddStackExchangeRedisCache(options => { });
        builder.Services.AddOptions<Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions>()
            .Configure<IConnectionMultiplexer>((options, redis) => options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
        builder.Services.AddHybridCache();

        builder.Services.Configure<ChatOptions>(builder.Configuration.GetSection("Chat"));
        builder.Services.AddSingleton<ApiMetrics>();
        builder.Services.AddSingleton<SilentHostWatch>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SilentHostWatch>());
        builder.Services.AddSingleton(services => ChatDataSources.Create(
            builder.Configuration, PrepareHotQueries, services.GetRequiredService<ILoggerFactory>(), services.GetRequiredService<SilentHostWatch>()));
        builder.Services.AddSingleton<ChatDatabase>();
        builder.Services.AddKeyedSingleton(ChatDatabase.AdminName, (services, _) =>
        {
            var admin = services.GetRequiredKeyedService<Npgsql.NpgsqlDataSource>(ChatDatabase.AdminName);
            return new ChatDatabase(ChatDataSources.Only(admin), services.GetRequiredService<ApiMetrics>(), services.GetRequiredService<ILogger<ChatDatabase>>());
        });
        builder.Services.Configure<ApiKeyCacheOptions>(builder.Configuration.GetSection("Chat:ApiKeys"));
        builder.Services.AddSingleton<ApiKeyDirectory>();
        builder.Services.AddHostedService<KeyRevocationListener>();
        builder.Services.AddChatRateLimits(builder.Configuration);
        builder.Services.AddSingleton<RisingValues>();
        builder.Services.AddSingleton<NewestWriteMarkers>();
        builder.Services.AddSingleton<AcknowledgedSequences>();
        builder.Services.AddSingleton<ChatCache>();
        builder.Services.AddSingleton<ActivityRecorder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ActivityRecorder>());
        builder.Services.AddScoped<InstanceKeyFilter>();
        builder.Services.AddScoped<AdminKeyFilter>();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<IshChat.Api.Validation.ClientErrorHandler>();
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapChatApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.MapOpenApi();
        app.MapScalarApiReference();

        app.MapClusterApi();
        app.MapInstancesApi();
        app.MapDevicesApi();
        app.MapSessionsApi();
        app.MapMessagesApi();
        return app;
    }

    private static void PrepareHotQueries(Npgsql.NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
        dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        // Who, in the audit log (log_line_prefix %a) for statements outside an instance's transaction.
        dataSource.ConnectionStringBuilder.ApplicationName ??= "ishchat-api";
    }
}
