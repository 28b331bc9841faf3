using System.Diagnostics;
using System.Text.Json.Nodes;
using IshChat.AppHost.Hosting.Azure;
using IshChat.Tests.Infrastructure;

namespace IshChat.Tests.Azure;

/// <summary>
/// The AppHost's publish mode, run as a user would (<c>IshChat.AppHost --publisher manifest</c>): the
/// manifest holds the API and the migration service wired to secret connection strings, and nothing of
/// the local cluster.
/// </summary>
[Trait(TestCategories.Name, AzureCategory.Value)]
public sealed class PublishManifestTests
{
    private static readonly string[] expectedResources =
        ["chatdb", "chatdb-readonly", "chatdb-admin", "chatdb-migrator", "redis", "api-admin-key", "migrations", "api"];

    private static async Task<JsonObject> PublishManifestAsync()
    {
        var output = Directory.CreateTempSubdirectory("ishchat-manifest-");
        try
        {
            var manifestPath = Path.Combine(output.FullName, "manifest.json");
            // The AppHost's build output sits beside the tests (project reference); run its entry point.
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "IshChat.AppHost.dll"), "--publisher", "manifest", "--output-path", manifestPath })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var log = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"The AppHost did not publish within 90 s:\n{await log}");
            }

            Assert.True(process.ExitCode == 0, $"AppHost exited {process.ExitCode}:\n{await log}\n{await errors}");
            return JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!["resources"]!.AsObject();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ManifestHoldsTheApiTheMigrationsAndTheirConnectionsOnly()
    {
        var resources = await PublishManifestAsync();

        Assert.Equal(expectedResources.Order(), resources.Select(r => r.Key).Order());
        // None of the local cluster: no container of any kind (Patroni, etcd, HAProxy, PgBouncer, Redis, Prometheus…).
        Assert.DoesNotContain(resources, r => ((string)r.Value!["type"]!).StartsWith("container", StringComparison.Ordinal));
        Assert.Equal("project.v0", (string?)resources["api"]!["type"]);
        Assert.Equal("project.v0", (string?)resources["migrations"]!["type"]);
    }

    [Fact(Timeout = 120_000)]
    public async Task ConnectionStringsAreSecretParametersTheDeploymentFills()
    {
        var resources = await PublishManifestAsync();

        foreach (var name in new[] { "chatdb", "chatdb-readonly", "chatdb-admin", "chatdb-migrator", "redis" })
        {
            var parameter = resources[name]!;
            Assert.Equal("parameter.v0", (string?)parameter["type"]);
            Assert.Equal($"{{{name}.value}}", (string?)parameter["connectionString"]);
            Assert.True((bool)parameter["inputs"]!["value"]!["secret"]!, $"{name} is not secret");
        }

        Assert.True((bool)resources["api-admin-key"]!["inputs"]!["value"]!["secret"]!);
    }

    [Fact(Timeout = 120_000)]
    public async Task ApiReadsReadWriteReadOnlyAndRedisAndTheMigratorItsSession()
    {
        var resources = await PublishManifestAsync();

        var api = resources["api"]!["env"]!;
        Assert.Equal("{chatdb.connectionString}", (string?)api["ConnectionStrings__chatdb"]);
        Assert.Equal("{chatdb-readonly.connectionString}", (string?)api["ConnectionStrings__chatdb-readonly"]);
        Assert.Equal("{chatdb-admin.connectionString}", (string?)api["ConnectionStrings__chatdb-admin"]);
        Assert.Equal("{redis.connectionString}", (string?)api["ConnectionStrings__redis"]);
        Assert.Equal("{api-admin-key.value}", (string?)api["Chat__AdminApiKey"]);
        Assert.True((bool)resources["api"]!["bindings"]!["https"]!["external"]!);

        var migrations = resources["migrations"]!["env"]!;
        Assert.Equal("{chatdb-migrator.connectionString}", (string?)migrations["ConnectionStrings__chatdb-migrator"]);
        Assert.Null(migrations["ConnectionStrings__chatdb"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task PublishModelRunsTwoApiReplicasAfterTheMigrationsComplete()
    {
        // The manifest format has no replica count, so the model itself is inspected, built in publish mode.
        var output = Directory.CreateTempSubdirectory("ishchat-model-");
        try
        {
            var builder = DistributedApplication.CreateBuilder(["--publisher", "manifest", "--output-path", Path.Combine(output.FullName, "m.json")]);
            Assert.True(builder.ExecutionContext.IsPublishMode);

            builder.AddAzureApplicationModel();
            await using var app = builder.Build();
            var api = builder.Resources.Single(r => r.Name == "api");

            Assert.True(api.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas));
            Assert.Equal(AzureDeployment.ApiReplicas, replicas.Replicas);
            Assert.True(AzureDeployment.ApiReplicas >= 2);
            Assert.Contains(api.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "migrations" && w.WaitType == WaitType.WaitForCompletion);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
