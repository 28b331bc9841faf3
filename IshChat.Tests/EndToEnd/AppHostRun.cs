using System.Diagnostics;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IshChat.Tests.EndToEnd;

/// <summary>
/// Starts the whole AppHost as the end-to-end tests run it: headless, random host ports and container names, the
/// AppHost's own log in the test log, and waits until every tier a client uses is healthy.
/// </summary>
public static class AppHostRun
{
    /// <summary>A container just removed by the orchestrator holds its volume a few seconds longer.</summary>
    public static readonly TimeSpan VolumeRemovalPatience = TimeSpan.FromMinutes(1);

    private static readonly string[] readyResources =
        [ResourceNames.Postgres, ResourceNames.HAProxy, ResourceNames.PgBouncer, ResourceNames.Redis, ResourceNames.Api, ResourceNames.Alertmanager, ResourceNames.Prometheus];

    /// <summary>A volume set of a test run's own (<c>ishchat-test-1a2b3c4d</c>), so it never reuses a developer's data.</summary>
    public static string NewVolumePrefix() => $"ishchat-test-{Guid.NewGuid():N}"[..21];

    public static async Task<DistributedApplication> StartAsync(IMessageSink sink, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(
            ["--headless", "--IshChat:FixedContainerNames=false", .. arguments], cancellationToken);
        // The test log gets what the AppHost says, through xunit's diagnostics; not the console's duplicate.
        builder.Services.AddLogging(logging => logging
            .ClearProviders()
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Warning)
            .AddFilter("Microsoft", LogLevel.Warning)
            // Containers' and services' own output is in `docker logs` and the dashboard; the test log keeps to what the
            // AppHost says, unless ISHCHAT_TEST_RESOURCE_LOGS=1 asks for everything (to see why an API request failed).
            .AddFilter("IshChat.AppHost.Resources", Environment.GetEnvironmentVariable("ISHCHAT_TEST_RESOURCE_LOGS") == "1" ? LogLevel.Information : LogLevel.None)
            .AddProvider(new MessageSinkLoggerProvider(sink)));
        var app = await builder.BuildAsync(cancellationToken);
        try
        {
            await app.StartAsync(cancellationToken);
            foreach (var resource in readyResources)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, cancellationToken);
                sink.OnMessage(new DiagnosticMessage($"[{stopwatch.Elapsed:mm\\:ss}] {resource} is healthy"));
            }

            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
