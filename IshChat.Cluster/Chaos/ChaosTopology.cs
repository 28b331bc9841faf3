namespace IshChat.Cluster.Chaos;

/// <summary>How many instances of each tier the system under test runs; read from the running application's model, never assumed.</summary>
public sealed record ChaosTopology(int EtcdMembers, int PgBouncers, int HAProxies, int ApiReplicas, SynchronousMode SynchronousMode);
