namespace IshChat.Cluster;

/// <summary>
/// The few container-runtime facts and faults Testcontainers has no API for (kill, network
/// disconnect, state), asked of the docker CLI, which speaks for the same engine.
/// </summary>
public static class DockerCli
{
    public static async Task<string> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        var (exitCode, output) = await ClusterImageBuilder.DockerAsync(list, null, cancellationToken);
        var text = string.Join(Environment.NewLine, output);
        return exitCode == 0 ? text.Trim() : throw new InvalidOperationException($"docker {string.Join(' ', list)} failed ({exitCode}): {text}");
    }

    /// <summary>SIGKILL: the node is gone at once, as in a host crash.</summary>
    public static Task KillAsync(string container, CancellationToken cancellationToken = default) =>
        RunAsync(["kill", "--signal", "KILL", container], cancellationToken);

    public static Task DisconnectAsync(string network, string container, CancellationToken cancellationToken = default) =>
        RunAsync(["network", "disconnect", "--force", network, container], cancellationToken);

    public static Task ConnectAsync(string network, string container, IEnumerable<string> aliases, CancellationToken cancellationToken = default) =>
        RunAsync(["network", "connect", .. aliases.SelectMany(a => new[] { "--alias", a }), network, container], cancellationToken);

    /// <summary>True only when the runtime itself says the container is not running and not merely paused.</summary>
    public static async Task<bool> IsConfirmedDeadAsync(string container, CancellationToken cancellationToken = default)
    {
        var (exitCode, output) = await ClusterImageBuilder.DockerAsync(
            ["inspect", "--format", "{{.State.Running}} {{.State.Paused}} {{.State.Restarting}}", container], null, cancellationToken);
        if (exitCode != 0)
        {
            // Removed altogether: certainly not serving.
            return output.Any(l => l.Contains("No such", StringComparison.OrdinalIgnoreCase));
        }

        return output.FirstOrDefault()?.Trim() == "false false false";
    }
}
