using IshChat.AppHost.Hosting.Patroni;

namespace IshChat.AppHost.Hosting.PgBouncer;

/// <summary>
/// The pooling tier: several identical PgBouncer instances in transaction-pooling mode, each in front of every
/// HAProxy instance. Users are looked up in PostgreSQL with auth_query, so the only credential they hold is their own
/// auth user's. Clients list every instance (Npgsql multi-host), so losing one costs no request.
/// </summary>
public sealed class PgBouncerResource(string name, PatroniClusterResource cluster) : Resource(name)
{
    private readonly List<PgBouncerInstanceResource> instances = [];

    public PatroniClusterResource Cluster { get; } = cluster;

    public IReadOnlyList<PgBouncerInstanceResource> Instances => instances;

    internal void AddInstance(PgBouncerInstanceResource instance) => instances.Add(instance);
}
