namespace IshChat.Cluster.Tls;

/// <summary>The DNS names each server's certificate must carry: every name a verifying client dials it by.</summary>
public static class ServerNames
{
    /// <summary>
    /// A PostgreSQL node: its own name (replication, pg_rewind, the exporter) and every HAProxy's, because HAProxy
    /// passes TCP through untouched: PgBouncer (<c>server_tls_sslmode=verify-full</c>) and the migrations dial
    /// <c>haproxy-N</c> and get the node's own certificate.
    /// </summary>
    public static IReadOnlyList<string> PatroniNode(string nodeName, IEnumerable<string> routers)
    {
        var routerNames = routers.ToArray();
        // HACK: PgBouncer 1.24 (Debian trixie's) checks a multi-host entry's certificate against the whole host string,
        // "haproxy-0,haproxy-1", not the host it dialled (pgbouncer/pgbouncer#1300, fixed by #1303 in 1.25). So the
        // certificate also carries that string as one name; drop it once the image has PgBouncer 1.25.
        return routerNames.Length > 1 ? [nodeName, .. routerNames, PgBouncerUpstream(routerNames)] : [nodeName, .. routerNames];
    }

    /// <summary>PgBouncer's <c>host=</c> for every HAProxy: a comma list it spreads new server connections over.</summary>
    public static string PgBouncerUpstream(IEnumerable<string> routers) => string.Join(',', routers);

    /// <summary>
    /// An etcd member: its own name, which Patroni, the other members (peer URLs) and the host's processes (through a
    /// host port: <see cref="TlsFiles.LoopbackNames"/>) dial. The same certificate is its client certificate to its peers.
    /// </summary>
    public static IReadOnlyList<string> EtcdMember(string memberName) => [memberName];

    /// <summary>The cache: its own name, which redis-exporter dials (the API dials it through a host port: <see cref="TlsFiles.LoopbackNames"/>).</summary>
    public static IReadOnlyList<string> Redis(string name) => [name];

    /// <summary>A PgBouncer: its own name (the exporter) and the tier's (a client that balances over the tier).</summary>
    public static IReadOnlyList<string> PgBouncer(string instanceName, string tierName) => [instanceName, tierName];
}
