using IshChat.AppHost.Hosting.Patroni;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.AppHost.Hosting.SinglePostgres;
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

        // Then: the API never bypasses row-level security, whichever topology it runs on. (The connection strings name
        // endpoints that are only allocated when the application runs, so the model is read, not evaluated.)
        var roles = model.Resources.OfType<SinglePostgresRoleConnectionResource>().ToDictionary(r => r.Name, r => r.Role);
        Assert.Equal(ClusterRoles.App, roles[ResourceNames.ChatDatabase]);
        Assert.Equal(ClusterRoles.App, roles[ResourceNames.ChatDatabaseReadOnly]);
        Assert.Equal(ClusterRoles.Migrator, roles[ResourceNames.ChatDatabaseMigrator]);
        Assert.All(model.Resources.OfType<SinglePostgresRoleConnectionResource>(), r =>
            Assert.Contains($"Username={r.Role};", r.ConnectionStringExpression.ValueExpression, StringComparison.Ordinal));
    }

    private async Task<DistributedApplicationModel> BuildSingleServerModelAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.IshChat_AppHost>(["--IshChat:ModelOnly=true", "--IshChat:SingleServer=true"]);
        app = await builder.BuildAsync();
        return app.Services.GetRequiredService<DistributedApplicationModel>();
    }
}
