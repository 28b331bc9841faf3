using System.Security.Cryptography;
using DotNet.Testcontainers.Configurations;
using Microsoft.Extensions.Logging;
using Npgsql;
using Testcontainers.PostgreSql;

namespace IshChat.Cluster.Testcontainers;

/// <summary>
/// One plain PostgreSQL 17 from our patroni image in its single-server mode (the official postgres image's contract),
/// started by Testcontainers.PostgreSql's <see cref="PostgreSqlBuilder"/>: the IshChat database and roles exist as on a
/// cluster's leader, so the migrations and the API run unchanged. For fast database tests and the bench's baseline.
/// </summary>
public sealed class SinglePostgres : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<ClusterSecret, string> secrets;

    private SinglePostgres(PostgreSqlContainer container, IReadOnlyDictionary<ClusterSecret, string> secrets) =>
        (Container, this.secrets) = (container, secrets);

    public PostgreSqlContainer Container { get; }

    public int HostPort => Container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort);

    /// <summary>
    /// Builds the image if missing and starts the server; <paramref name="durable"/> keeps fsync and synchronous commit
    /// on (Testcontainers turns them off for speed), as a benchmark comparing it with the cluster needs.
    /// </summary>
    public static async Task<SinglePostgres> StartAsync(ILogger logger, bool durable = false, CancellationToken cancellationToken = default)
    {
        TestcontainersSettings.ResourceReaperEnabled = false;
        var layout = RepositoryLayout.Current;
        await new ClusterImageBuilder(layout, logger).EnsureBuiltAsync([ClusterImages.Patroni], cancellationToken);
        var secrets = Enum.GetValues<ClusterSecret>().ToDictionary(s => s, _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var builder = new PostgreSqlBuilder(ClusterImages.Patroni.Reference(layout))
            .WithUsername(ClusterRoles.Superuser)
            .WithPassword(secrets[ClusterSecret.SuperuserPassword])
            .WithDatabase(ClusterRoles.Database)
            .WithEnvironment(ComponentEnvironment.SinglePostgres().ToDictionary(e => e.Key, e => e.Value.Resolve(s => secrets[s])));
        if (durable)
        {
            // Later -c options win: these undo the builder's fsync=off, full_page_writes=off, synchronous_commit=off.
            builder = builder.WithCommand("-c", "fsync=on", "-c", "full_page_writes=on", "-c", "synchronous_commit=on");
        }

        var container = await HostPortClash.StartAsync(builder.Build, logger, cancellationToken);
        return new SinglePostgres(container, secrets);
    }

    /// <summary>A connection string to the IshChat database as <paramref name="role"/> (e.g. <see cref="ClusterRoles.App"/>).</summary>
    public string ConnectionString(string role) => new NpgsqlConnectionStringBuilder
    {
        Host = Container.Hostname, Port = HostPort, Database = ClusterRoles.Database, Username = role, Password = secrets[ClusterRoles.PasswordOf(role)],
    }.ConnectionString;

    public ValueTask DisposeAsync() => Container.DisposeAsync();
}
