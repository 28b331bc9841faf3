using IshChat.ServiceDefaults;
using Npgsql;

namespace IshChat.Api.Data;

/// <summary>A read-write data source (to the primary) and a read-only one (to the replicas).</summary>
public sealed record DataSourcePair(SpreadDataSource Primary, SpreadDataSource Replicas);

/// <summary>
/// Where the API's transactions go: the shared pair (admin work, background flushes), and each instance type's own
/// pair when the configuration names one (<c>ConnectionStrings:chatdb-trial</c> …, PgBouncer's per-type pools), so one
/// plan's flood waits for its own server connections. A type without its own pair uses the shared one. Each connection
/// string lists every PgBouncer; the connections spread over those that answer (<see cref="SpreadDataSource"/>).
/// </summary>
public sealed class ChatDataSources
{
    private readonly Dictionary<string, DataSourcePair> byInstanceType;

    private ChatDataSources(DataSourcePair shared, Dictionary<string, DataSourcePair> byInstanceType)
    {
        Shared = shared;
        this.byInstanceType = byInstanceType;
        All = [.. byInstanceType.Values.Prepend(Shared).SelectMany(p => new[] { p.Primary, p.Replicas }).Distinct()];
    }

    /// <summary>
    /// The shared pair (<c>chatdb</c>, <c>chatdb-readonly</c>) and each instance type's pair the configuration names, each
    /// data source configured by <paramref name="configure"/>, their PgBouncers watched by <paramref name="watch"/>.
    /// </summary>
    public static ChatDataSources Create(
        IConfiguration configuration, Action<NpgsqlDataSourceBuilder> configure, ILoggerFactory loggerFactory, SilentHostWatch watch)
    {
        SpreadDataSource? Source(string name) =>
            configuration.GetConnectionString(name) is { Length: > 0 } connectionString
                ? SpreadDataSource.Create(connectionString, configure, loggerFactory, watch)
                : null;

        var shared = new DataSourcePair(
            Source(ChatDatabase.ReadWriteName) ?? throw new InvalidOperationException($"ConnectionStrings:{ChatDatabase.ReadWriteName} is missing."),
            Source(ChatDatabase.ReadOnlyName) ?? throw new InvalidOperationException($"ConnectionStrings:{ChatDatabase.ReadOnlyName} is missing."));
        return new ChatDataSources(shared, InstanceTypes.All.ToDictionary(type => type, type => new DataSourcePair(
            Source(ResourceNames.ChatDatabaseFor(type, readOnly: false)) ?? shared.Primary,
            Source(ResourceNames.ChatDatabaseFor(type, readOnly: true)) ?? shared.Replicas)));
    }

    /// <summary>One data source for every read and write, whatever the instance type (the admin API's own role).</summary>
    public static ChatDataSources Only(NpgsqlDataSource source)
    {
        var only = SpreadDataSource.Of(source);
        return new ChatDataSources(new DataSourcePair(only, only), []);
    }

    public DataSourcePair Shared { get; }

    /// <summary>Every distinct data source, to clear them all when a failover poisoned their idle connections.</summary>
    public IReadOnlyList<SpreadDataSource> All { get; }

    public DataSourcePair For(string instanceType) => byInstanceType.GetValueOrDefault(instanceType, Shared);

    /// <summary>The per-type connection names the configuration may hold, to register their data sources.</summary>
    public static IEnumerable<string> InstanceTypeConnectionNames =>
        InstanceTypes.All.SelectMany(type => new[] { ResourceNames.ChatDatabaseFor(type, readOnly: false), ResourceNames.ChatDatabaseFor(type, readOnly: true) });
}
