using DotNet.Testcontainers.Networks;

namespace IshChat.Cluster.Testcontainers;

/// <summary>A second region's tie to the first: the cluster whose CA and secrets it shares, and the inter-region network both sit on.</summary>
public sealed record RegionLink(PatroniTestCluster Peer, INetwork Network);
