using System.Globalization;
using System.Text.Json;
using DotNet.Testcontainers.Containers;

namespace IshChat.Cluster.Testcontainers;

/// <summary>One container of the test cluster, known by its DNS name on the cluster's network.</summary>
public sealed class TestClusterNode(string name, IContainer container)
{
    public string Name { get; } = name;

    public IContainer Container { get; } = container;

    public string ContainerId => Container.Id;

    private Dictionary<int, int>? hostPorts;

    /// <summary>The host's port for <paramref name="containerPort"/>; it changes when the container restarts.</summary>
    public int HostPort(int containerPort) =>
        hostPorts is { } known && known.TryGetValue(containerPort, out var port) ? port : Container.GetMappedPublicPort(containerPort);

    /// <summary>
    /// Reads the published ports from the runtime again. Testcontainers keeps the ports of the first
    /// start, but a restarted container gets new random ones.
    /// </summary>
    public async Task RefreshHostPortsAsync(CancellationToken cancellationToken = default)
    {
        var json = await DockerCli.RunAsync(["inspect", "--format", "{{json .NetworkSettings.Ports}}", ContainerId], cancellationToken);
        var ports = new Dictionary<int, int>();
        using var document = JsonDocument.Parse(json);
        foreach (var mapping in document.RootElement.EnumerateObject())
        {
            if (mapping.Value.ValueKind == JsonValueKind.Array && mapping.Value.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } binding)
            {
                ports[int.Parse(mapping.Name.Split('/')[0], CultureInfo.InvariantCulture)] = int.Parse(binding.GetProperty("HostPort").GetString()!, CultureInfo.InvariantCulture);
            }
        }

        hostPorts = ports;
    }

    /// <summary>
    /// The container's address on its network. On Linux the host reaches it directly, without Docker's userland port
    /// proxy in the path (the benchmarks use it to measure the cluster rather than the proxy).
    /// </summary>
    public async Task<string> ContainerAddressAsync(CancellationToken cancellationToken = default)
    {
        var addresses = await DockerCli.RunAsync(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", ContainerId], cancellationToken);
        return addresses.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? throw new InvalidOperationException($"{Name} has no address on any network.");
    }

    public override string ToString() => Name;
}
