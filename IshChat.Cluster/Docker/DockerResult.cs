namespace IshChat.Cluster.Docker;

/// <summary>What one docker CLI call returned: its exit code and its output lines (stdout and stderr, interleaved).</summary>
public sealed record DockerResult(IReadOnlyList<string> Arguments, int ExitCode, IReadOnlyList<string> Output)
{
    public bool Succeeded => ExitCode == 0;

    public string Text => string.Join(Environment.NewLine, Output).Trim();

    /// <summary>The output, or an exception naming the command, its exit code and its last lines.</summary>
    public string EnsureSucceeded() => Succeeded
        ? Text
        : throw new DockerCommandException(
            $"docker {string.Join(' ', Arguments)} failed (exit {ExitCode}):{Environment.NewLine}{string.Join(Environment.NewLine, Output.TakeLast(30))}");
}
