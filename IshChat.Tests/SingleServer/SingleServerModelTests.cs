using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IshChat.Tests.SingleServer;

/// <summary>The laptop-sized topology (eng/run.sh --single) as the AppHost models it, without starting anything.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SingleServerModelTests : IAsyncDisposable
{
    private DistributedApplication? app;

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task SingleTopologyRunsOnePostgresThroughAddPostgresOnOurImageWithADataVolumeAndItsHealthCheck()
    {
        // When
        var model = await BuildSingleServerModelAsync();

        // Then
        var postgres = Assert.Single(model.Resources.OfType<PostgresServerResource>());
        Assert.True(postgres.TryGetContainerImageName(out var image));
        Assert.StartsWith(ClusterImages.Patroni.Repository + ":", image, StringComparison.Ordinal);
        Assert.Contains(postgres.Annotations.OfType<ContainerMountAnnotation>(), m => m.Type == ContainerMountType.Volume && m.Target == "/var/lib/postgresql/data");
        Assert.True(postgres.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), "AddPostgres's health check is missing");
        Assert.Empty(model.Resources.OfType<PatroniClusterResource>());
        Assert.Empty(model.Resources.OfType<PgBouncerResource>());
    }

    [Fact]
    public async Task SingleTopologyGivesTheApiAndTheMigrationsTheClusterRolesNotTheSuperuser()
    {
        // When
        var model = await BuildSingleServerModelAsync();

        // Then: the API never bypasses row-level security, whichever topology it runs on.
        var api = model.Resources.OfType<ProjectResource>().Single(p => p.Name == ResourceNames.Api);
        var migrations = model.Resources.OfType<ProjectResource>().Single(p => p.Name == ResourceNames.Migrations);
        var apiEnvironment = await ResourceEnvironment.EvaluateAsync(api, app!.Services);
        var migrationsEnvironment = await ResourceEnvironment.EvaluateAsync(migrations, app.Services);
        Assert.Contains($"Username={ClusterRoles.App};", apiEnvironment[$"ConnectionStrings__{ResourceNames.ChatDatabase}"], StringComparison.Ordinal);
        Assert.Contains($"Username={ClusterRoles.App};", apiEnvironment[$"ConnectionStrings__{ResourceNames.ChatDatabaseReadOnly}"], StringComparison.Ordinal);
        Assert.Contains($"Username={ClusterRoles.Migrator};", migrationsEnvironment[$"ConnectionStrings__{ResourceNames.ChatDatabaseMigrator}"], StringComparison.Ordinal);
        var postgres = Assert.Single(model.Resources.OfType<PostgresServerResource>());
        var postgresEnvironment = await ResourceEnvironment.EvaluateAsync(postgres, app.Services);
        Assert.Equal(ClusterRoles.App, postgresEnvironment["ISHCHAT_APP_USER"]);
        Assert.False(string.IsNullOrEmpty(postgresEnvironment["POSTGRES_PASSWORD"]));
    }

    private async Task<DistributedApplicationModel> BuildSingleServerModelAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(["--IshChat:ModelOnly=true", "--IshChat:SingleServer=true"]);
        app = await builder.BuildAsync();
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }
}
