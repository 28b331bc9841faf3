using IshChat.Cluster.Faults;

namespace IshChat.Cluster.Chaos;

/// <summary>One row of the chaos matrix: a fault done to one component under the API load.</summary>
public sealed record ChaosRow(ChaosComponent Component, Fault Fault)
{
    public string Name => $"{FaultDescription.Of(Fault).Verb} {Component.Name}";

    public override string ToString() => Name;
}
