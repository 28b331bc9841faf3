using System.Diagnostics;
using IshChat.Cluster.Docker;

namespace IshChat.Bench.Failover;

/// <summary>
/// Delay on the inter-region link with tc netem, set from the host inside each container's network namespace (nsenter,
/// as root; the images carry no iproute2): on the standby region's nodes and the primary region's HAProxy, on the
/// interface that sits on the link, so both directions are delayed and a round trip costs twice the delay.
/// </summary>
internal static class LinkLatency
{
    public static async Task<string> AddAsync(PatroniTestCluster standby, PatroniTestCluster primary, int oneWayMilliseconds)
    {
        var network = standby.InterRegionNetwork ?? throw new InvalidOperationException("The standby region is on no link.");
        try
        {
            foreach (var container in standby.Nodes.Append(primary.HAProxy))
            {
                var pid = await DockerCli.RunAsync(["inspect", "--format", "{{.State.Pid}}", container.ContainerId]);
                var address = await DockerCli.RunAsync(["inspect", "--format", $"{{{{(index .NetworkSettings.Networks \"{network.Name}\").IPAddress}}}}", container.ContainerId]);
                var addresses = await RunAsync("nsenter", ["-t", pid.Trim(), "-n", "ip", "-o", "-4", "addr", "show"]);
                var device = addresses.Split('\n').First(line => line.Contains($" {address.Trim()}/", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                await RunAsync("nsenter", ["-t", pid.Trim(), "-n", "tc", "qdisc", "replace", "dev", device, "root", "netem", "delay", $"{oneWayMilliseconds}ms"]);
            }

            return $"{oneWayMilliseconds} ms";
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"  tc netem could not be set ({ex.Message}); measuring without added latency");
            return "none (netem unavailable)";
        }
    }

    private static async Task<string> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started.");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList)}: {error.Trim()}");
    }
}
