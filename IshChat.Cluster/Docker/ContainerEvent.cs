namespace IshChat.Cluster.Docker;

/// <summary>One lifecycle event of a container, as <c>docker events</c> reports it (<c>die</c>, <c>stop</c>, <c>start</c>, …).</summary>
public sealed record ContainerEvent(string Action, string ContainerId, DateTimeOffset At, int? ExitCode);
