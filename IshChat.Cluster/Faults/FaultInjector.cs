using IshChat.Cluster.Docker;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Faults;

/// <summary>Does a <see cref="Fault"/> to a container, and undoes it, through the container runtime.</summary>
public static class FaultInjector
{
    /// <summary>The postmaster's pid file inside a Patroni node (containers/patroni/README.md).</summary>
    private const string PostmasterPidFile = "/var/lib/postgresql/data/postmaster.pid";

    public static async Task InjectAsync(Fault fault, FaultTarget target, ILogger logger, CancellationToken cancellationToken = default)
    {
        logger.LogWarning("Fault: {Fault} {Target}", FaultDescription.Of(fault).Verb, target.Name);
        if (fault == Fault.Partition && target.CutOffInsideNamespace)
        {
            await NamespaceFirewall.CutOffAsync(target, cancellationToken);
            return;
        }

        var arguments = fault switch
        {
            Fault.Kill => new[] { "kill", "--signal", "KILL", target.ContainerId },
            Fault.Stop => ["stop", "--time", "10", target.ContainerId],
            Fault.Crash => ["exec", target.ContainerId, "bash", "-c", $"kill -KILL \"$(head -n 1 {PostmasterPidFile})\""],
            Fault.Pause => ["pause", target.ContainerId],
            Fault.Partition => ["network", "disconnect", "--force", target.RequireNetwork(), target.ContainerId],
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await DockerCli.RunAsync(arguments, cancellationToken);
                return;
            }
            catch (DockerCommandException ex) when (fault == Fault.Pause && attempt < 3 && ex.Message.Contains("unable to freeze", StringComparison.Ordinal))
            {
                // On a saturated machine the runtime sometimes fails to freeze a container in time: that is the fault
                // not happening yet, not the cluster failing (seen in bench/failover.sh's first fencing run).
                logger.LogWarning("Freezing {Target} did not happen ({Message}); trying again", target.Name, ex.Message.Split('\n').Last());
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>Undoes <paramref name="fault"/>: starts a killed or stopped container, unpauses, reconnects. A crash needs no repair.</summary>
    public static async Task RepairAsync(Fault fault, FaultTarget target, ILogger logger, CancellationToken cancellationToken = default)
    {
        var description = FaultDescription.Of(fault);
        if (description.RepairVerb is null)
        {
            return;
        }

        logger.LogInformation("Repair: {Repair} {Target}", description.RepairVerb, target.Name);
        if (fault is Fault.Kill or Fault.Stop)
        {
            await DockerCli.StartAsync(target.ContainerId, cancellationToken);
            return;
        }

        if (fault == Fault.Partition && target.CutOffInsideNamespace)
        {
            await NamespaceFirewall.ReconnectAsync(target, cancellationToken);
            return;
        }

        var arguments = fault switch
        {
            Fault.Pause => new[] { "unpause", target.ContainerId },
            Fault.Partition => ["network", "connect", .. (target.Aliases ?? []).SelectMany(a => new[] { "--alias", a }), target.RequireNetwork(), target.ContainerId],
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
        };
        await DockerCli.RunAsync(arguments, cancellationToken);
    }
}
