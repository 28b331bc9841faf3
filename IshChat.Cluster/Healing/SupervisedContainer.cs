namespace IshChat.Cluster.Healing;

/// <summary>A container the supervisor brings back: its name for the logs, and how its host starts it again.</summary>
public sealed record SupervisedContainer(string Name, Func<CancellationToken, Task> StartAsync);
