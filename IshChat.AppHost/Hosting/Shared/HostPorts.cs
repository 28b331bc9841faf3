using Microsoft.Extensions.Configuration;

namespace IshChat.AppHost.Hosting.Shared;

/// <summary>
/// Fixed host ports for local development, so <c>psql -h localhost -p 6432</c> just works.
/// Set in appsettings.json under IshChat:HostPorts; any can be overridden (e.g.
/// <c>IshChat__HostPorts__PgBouncer=16432</c>) and the test host randomises them all.
/// </summary>
public sealed record HostPorts
{
    public int? PgBouncer { get; init; }
    public int? HAProxyReadWrite { get; init; }
    public int? HAProxyReadOnly { get; init; }
    public int? HAProxyStats { get; init; }
    public int? Redis { get; init; }
    public int? Prometheus { get; init; }
    public int? Alertmanager { get; init; }
    public int? Grafana { get; init; }

    /// <summary>Node i's REST API is published on this port + i.</summary>
    public int? PatroniRestFirstNode { get; init; }

    /// <summary>Member i's client port is published on this port + i.</summary>
    public int? EtcdClientFirstMember { get; init; }

    public static HostPorts From(IConfiguration configuration) =>
        configuration.GetSection("IshChat:HostPorts").Get<HostPorts>() ?? new HostPorts();

    public static int? Offset(int? first, int index) => first is { } port ? port + index : null;
}
