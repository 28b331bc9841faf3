using IshChat.ServiceDefaults;
using Npgsql;

namespace IshChat.Api.Data;

/// <summary>A read-write data source (to the primary) and a read-only one (to the replicas).</summary>
public sealed record DataSourcePair(NpgsqlDataSource Primary, NpgsqlDataSource Replicas);

/// <summary>
/// Where the API's transactions go: the shared pair (admin work, background flushes), and each instance type's own
/// pair when the configuration names one (<c>ConnectionStrings:chatdb-trial</c> …, PgBouncer's per-type pools), so one
/// plan's flood waits for its own server connections. A type without its own pair uses the shared one.
/// </summary>
public sealed class ChatDataSources
{
    private readonly Dictionary<string, DataSourcePair> byInstanceType;

    public ChatDataSources(NpgsqlDataSource primary, [FromKeyedServices(ChatDatabase.ReadOnlyName)] NpgsqlDataSource replicas, IServiceProvider services)
    {
        Shared = new DataSourcePair(primary, replicas);
        byInstanceType = InstanceTypes.All.ToDictionary(type => type, type => new DataSourcePair(
            services.GetKeyedService<NpgsqlDataSource>(ResourceNames.ChatDatabaseFor(type, readOnly: false)) ?? primary,
            services.GetKeyedService<NpgsqlDataSource>(ResourceNames.ChatDatabaseFor(type, readOnly: true)) ?? replicas));
        All = [.. byInstanceType.Values.Prepend(Shared).SelectMany(p => new[] { p.Primary, p.Replicas }).Distinct()];
    }

    private ChatDataSources(NpgsqlDataSource only)
    {
        Shared = new DataSourcePair(only, only);
        byInstanceType = [];
        All = [only];
    }

    /// <summary>One data source for every read and write, whatever the instance type (the admin API's own role).</summary>
    public static ChatDataSources Only(NpgsqlDataSource source) => new(source);

    public DataSourcePair Shared { get; }

    /// <summary>Every distinct data source, to clear them all when a failover poisoned their idle connections.</summary>
    public IReadOnlyList<NpgsqlDataSource> All { get; }

    public DataSourcePair For(string instanceType) => byInstanceType.GetValueOrDefault(instanceType, Shared);

    /// <summary>The per-type connection names the configuration may hold, to register their data sources.</summary>
    public static IEnumerable<string> InstanceTypeConnectionNames =>
        InstanceTypes.All.SelectMany(type => new[] { ResourceNames.ChatDatabaseFor(type, readOnly: false), ResourceNames.ChatDatabaseFor(type, readOnly: true) });
}
