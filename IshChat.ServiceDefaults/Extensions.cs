using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using IshChat.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every IshChat service gets: telemetry, health endpoints, service discovery and resilient HTTP.</summary>
public static class Extensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";
    private const string MetricsEndpointPath = "/metrics";

    /// <summary>The chat API's own instruments (messages, retries, read routing, consistency waits).</summary>
    public const string ChatMeterName = "IshChat.Api";

    /// <summary>Npgsql's built-in meter: pool usage, pending requests, command durations and failures.</summary>
    private const string NpgsqlMeterName = "Npgsql";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(ChatMeterName, NpgsqlMeterName)
                // Pulled by Prometheus at /metrics, while OTLP still pushes to the Aspire dashboard.
                .AddPrometheusExporter());

        // Traces leave the process only through OTLP (the AppHost's dashboard). Without an endpoint nobody reads them, and
        // recording one per request (an Activity, its tags) was a measurable share of the API's CPU per request (issue 15).
        if (ExportsTraces(builder.Configuration))
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddSource(builder.Environment.ApplicationName)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath) && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath)
                        && !context.Request.Path.StartsWithSegments(MetricsEndpointPath))
                    .AddHttpClientInstrumentation())
                .UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Whether traces leave the process: only through OTLP, when an endpoint is configured. Client integrations (Npgsql,
    /// Redis) record spans only then: otherwise every command's span, or Redis's profiling session, is work nobody reads.
    /// </summary>
    public static bool ExportsTraces(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Readiness (all checks) and liveness (the process answers) for the AppHost and orchestrators.
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        // Every instance serves its own metrics; Prometheus scrapes each replica separately, on a listener of its own
        // (the AppHost's "metrics" endpoint, the one bound to the Docker host's gateway so the Prometheus container reaches it).
        // The public endpoints answer /metrics with 404: counters name routes, instance types and failure reasons.
        if (MetricsListenerPort(app.Configuration) is { } metricsPort)
        {
            app.Use(async (context, next) =>
            {
                if (context.Request.Path.StartsWithSegments(MetricsEndpointPath) != (context.Connection.LocalPort == metricsPort))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }

                await next(context);
            });
        }

        app.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
        return app;
    }

    /// <summary>
    /// The port of the metrics listener (<see cref="MetricsListener.IsMetricsListener"/>) in the service's URLs (ASPNETCORE_URLS), or
    /// null when there is none (a service run on its own serves /metrics on its one listener).
    /// </summary>
    public static int? MetricsListenerPort(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var urls = configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? "";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && MetricsListener.IsMetricsListener(uri) && uri.Port > 0)
            {
                return uri.Port;
            }
        }

        return null;
    }
}
