namespace IshChat.Cluster.Docker;

/// <summary>A docker CLI call that failed or did not finish in time.</summary>
public sealed class DockerCommandException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
