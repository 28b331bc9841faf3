using System.Globalization;
using IshChat.Cluster.Docker;

namespace IshChat.Cluster.HAProxy;

/// <summary>One server line of HAProxy's <c>show stat</c>: its check status (UP, DOWN, MAINT, DRAIN…) and open sessions.</summary>
public sealed record HAProxyServerStat(string Backend, string Server, string Status, int CurrentSessions)
{
    public bool IsUp => Status.StartsWith("UP", StringComparison.Ordinal);
}

/// <summary>
/// HAProxy's runtime API in one of our HAProxy containers, reached with <c>docker exec</c> on its loopback socket
/// (<see cref="ClusterPorts.HAProxyRuntimeApi"/>): the replica procedures drain a server before its node stops, and
/// read whether an added node is routed to. Works the same for the AppHost's and the Testcontainers cluster's HAProxies.
/// </summary>
public static class HAProxyRuntime
{
    /// <summary>The backend the read-only entry (:5001) routes to; a server carries its Patroni node's name.</summary>
    public const string ReplicasBackend = "replicas";

    /// <summary>Sets <paramref name="server"/> of <paramref name="backend"/> to <c>ready</c>, <c>drain</c> (no new connections) or <c>maint</c>.</summary>
    public static async Task SetStateAsync(string haproxyContainer, string backend, string server, string state, CancellationToken cancellationToken = default)
    {
        var answer = await CommandAsync(haproxyContainer, $"set server {backend}/{server} state {state}", cancellationToken);
        if (answer.Length > 0)
        {
            // The API answers nothing on success and a sentence on failure ("No such server.").
            throw new InvalidOperationException($"HAProxy ({haproxyContainer[..Math.Min(12, haproxyContainer.Length)]}) refused 'set server {backend}/{server} state {state}': {answer}");
        }
    }

    /// <summary>Every server's status and open sessions, as <c>show stat</c> reports them.</summary>
    public static async Task<IReadOnlyList<HAProxyServerStat>> ServersAsync(string haproxyContainer, CancellationToken cancellationToken = default)
    {
        var csv = (await CommandAsync(haproxyContainer, "show stat", cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = csv.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Split(',')
            ?? throw new InvalidOperationException("HAProxy's 'show stat' had no header line.");
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidOperationException($"'show stat' has no '{name}' column.");
        var (backend, server, status, sessions) = (Column("pxname"), Column("svname"), Column("status"), Column("scur"));
        return [.. csv.Where(l => !l.StartsWith('#')).Select(l => l.Split(','))
            .Where(f => f.Length > status && f[server] is not ("FRONTEND" or "BACKEND"))
            .Select(f => new HAProxyServerStat(f[backend], f[server], f[status], int.TryParse(f[sessions], CultureInfo.InvariantCulture, out var n) ? n : 0))];
    }

    /// <summary><paramref name="server"/> in the read-only backend, or null when HAProxy does not list it.</summary>
    public static async Task<HAProxyServerStat?> ReplicaServerAsync(string haproxyContainer, string server, CancellationToken cancellationToken = default) =>
        (await ServersAsync(haproxyContainer, cancellationToken)).FirstOrDefault(s => s.Backend == ReplicasBackend && s.Server == server);

    private static async Task<string> CommandAsync(string haproxyContainer, string command, CancellationToken cancellationToken) =>
        await DockerCli.RunAsync(["exec", haproxyContainer, "bash", "-c",
            // The command is an argument ($1), never part of the script: nothing in it is interpreted by the shell.
            $"exec 3<>/dev/tcp/127.0.0.1/{ClusterPorts.HAProxyRuntimeApi.ToString(CultureInfo.InvariantCulture)} && printf '%s\\n' \"$1\" >&3 && cat <&3",
            "haproxy-runtime", command], cancellationToken);
}
