using System.Diagnostics;
using System.Globalization;
using IshChat.Cluster.Docker;

namespace IshChat.Cluster.Faults;

/// <summary>
/// Cuts a container off every network but its own loopback from inside its network namespace: two iptables rules that
/// drop whatever comes in or goes out on any other interface, so it is silent to its peers and they to it, while the
/// processes inside (Patroni and its PostgreSQL over localhost) go on as a node on the wrong side of a partition does.
/// Used where taking the container off its network does not last: Aspire's orchestrator connects a container it
/// manages back to the application's network about a second after <c>docker network disconnect</c> (seen in the chaos
/// matrix: etcd-0 disconnected at 16:50:42, connected again at 16:50:43, so its "partition" rows measured a blip).
/// A container started again (a fenced leader, say) gets a fresh namespace without the rules: the cut ends with it.
/// Needs the host's <c>nsenter</c> and <c>iptables</c> (the Docker engine's own dependency) and the right to enter
/// another process's namespace (root).
/// </summary>
internal static class NamespaceFirewall
{
    private static readonly string[][] rules =
    [
        ["INPUT", "!", "-i", "lo", "-j", "DROP"],
        ["OUTPUT", "!", "-o", "lo", "-j", "DROP"],
    ];

    public static async Task CutOffAsync(FaultTarget target, CancellationToken cancellationToken)
    {
        var pid = await PidAsync(target, cancellationToken)
            ?? throw new InvalidOperationException($"{target.Name} is not running: there is nothing to cut off.");
        foreach (var rule in rules)
        {
            var (exitCode, output) = await IptablesAsync(pid, ["-I", .. rule], cancellationToken);
            if (exitCode != 0)
            {
                throw new InvalidOperationException(
                    $"Cutting {target.Name} off inside its network namespace failed ({output.Trim()}): it needs root (nsenter) and iptables on the host.");
            }
        }
    }

    public static async Task ReconnectAsync(FaultTarget target, CancellationToken cancellationToken)
    {
        // Not running, or started again since the cut (a fenced node): a new namespace has no rules to remove.
        if (await PidAsync(target, cancellationToken) is not { } pid)
        {
            return;
        }

        foreach (var rule in rules)
        {
            // Deleting a rule that isn't there (a namespace made after the cut) fails harmlessly.
            await IptablesAsync(pid, ["-D", .. rule], cancellationToken);
        }
    }

    private static async Task<int?> PidAsync(FaultTarget target, CancellationToken cancellationToken)
    {
        var pid = int.Parse((await DockerCli.RunAsync(["inspect", "--format", "{{.State.Pid}}", target.ContainerId], cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        return pid > 0 ? pid : null;
    }

    private static async Task<(int ExitCode, string Output)> IptablesAsync(int pid, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--target", pid.ToString(CultureInfo.InvariantCulture), "--net", "iptables", "-w", "5" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("nsenter could not be started.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
