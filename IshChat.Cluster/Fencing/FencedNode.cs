namespace IshChat.Cluster.Fencing;

/// <summary>A Patroni node as the fencer reaches it: its container, and its REST API as seen from the fencer's process.</summary>
public sealed record FencedNode(string Name, string ContainerId, Uri RestUrl);
