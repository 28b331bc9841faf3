using IshChat.AppHost.Hosting.Shared;

namespace IshChat.AppHost.Hosting.PgBouncer;

/// <summary>One of PgBouncer's database entries (read-write or read-only) as a role sees it: a connection string.</summary>
public sealed class PgBouncerDatabaseResource(string name, string databaseEntry, string role, ParameterResource password, PgBouncerResource parent)
    : Resource(name), IResourceWithParent<PgBouncerResource>, IResourceWithConnectionString
{
    public PgBouncerResource Parent { get; } = parent;

    /// <summary>The entry in PgBouncer's [databases] section, e.g. <c>ishchat</c> or <c>ishchat_ro</c>.</summary>
    public string DatabaseEntry { get; } = databaseEntry;

    public string Role { get; } = role;

    public ParameterResource Password { get; } = password;

    /// <summary>
    /// No Reset On Close: under transaction pooling the server connection isn't ours after the
    /// transaction, so Npgsql's DISCARD ALL on close is pointless work (and would drop prepared statements).
    /// Every PgBouncer instance is listed. The chat API splits the list into a data source per PgBouncer and spreads
    /// over those that answer its probe (SpreadDataSource, SilentHostWatch in IshChat.Api). Any other Npgsql client of
    /// this string (the health checks, the admin tools) spreads with Load Balance Hosts: when one is gone, Npgsql
    /// marks it offline and opens the next connection on another; the mark is rechecked after 2 s (not 10), since a
    /// failover behind PgBouncer also marks a live PgBouncer offline.
    /// Timeout 5: Npgsql gives each host the whole connect time-out before it tries the next, and a frozen or cut-off
    /// PgBouncer never answers the startup; at the default 15 s that was the whole write pause of a frozen PgBouncer.
    /// Verified TLS only: PgBouncer must show a certificate the cluster CA signed for the name dialled.
    /// </summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={MultiHost.Of(Parent.Instances.Select(i => i.PrimaryEndpoint))};Load Balance Hosts=true;Host Recheck Seconds=2;Timeout=5;Username={Role};Password={Password};Database={DatabaseEntry};No Reset On Close=true;SSL Mode=VerifyFull;Root Certificate={Parent.Cluster.CertificateAuthority.HostFile}");
}
