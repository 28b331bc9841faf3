using DotNet.Testcontainers.Containers;

namespace IshChat.Cluster.Testcontainers;

/// <summary>One container of the test cluster, known by its DNS name on the cluster's network.</summary>
public sealed class TestClusterNode(string name, IContainer container)
{
    public string Name { get; } = name;

    public IContainer Container { get; } = container;

    public string ContainerId => Container.Id;

    /// <summary>The host's port for <paramref name="containerPort"/>; it changes when the container restarts.</summary>
    public int HostPort(int containerPort) => Container.GetMappedPublicPort(containerPort);

    public override string ToString() => Name;
}
