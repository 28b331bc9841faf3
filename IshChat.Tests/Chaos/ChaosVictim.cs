using System.Diagnostics;
using System.Globalization;
using IshChat.AppHost.Hosting.Shared;
using IshChat.Cluster.Faults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IshChat.Tests.Chaos;

/// <summary>The one instance a chaos row hits, found when the row starts (a Patroni role moves, an API replica's process changes).</summary>
public abstract class ChaosVictim(string name)
{
    public string Name { get; } = name;

    public abstract Task InjectAsync(Fault fault);

    /// <summary>
    /// Ends the fault: unfreezes, reconnects. A killed container is left to the AppHost's self-healing (part of what the
    /// row measures); a killed API replica, which nothing restarts on its own, is started through the orchestrator.
    /// </summary>
    public abstract Task RepairAsync(Fault fault);

    public override string ToString() => Name;
}

/// <summary>A container of the AppHost, faulted through the runtime like the dashboard's fault commands.</summary>
public sealed class ContainerVictim(FaultTarget target, ILogger logger) : ChaosVictim(target.Name)
{
    public static async Task<ContainerVictim> OfAsync(DistributedApplication app, IResource resource, ILogger logger) =>
        new(await app.Services.FaultTargetAsync(resource, CancellationToken.None), logger);

    public override Task InjectAsync(Fault fault) => FaultInjector.InjectAsync(fault, target, logger);

    public override async Task RepairAsync(Fault fault)
    {
        if (fault == Fault.Kill)
        {
            return;
        }

        try
        {
            await FaultInjector.RepairAsync(fault, target, logger);
        }
        catch (DockerCommandException ex)
        {
            // A frozen or cut-off leader is fenced (killed) and started again by the supervisor: nothing left to unpause.
            logger.LogInformation("Repair of {Target} not needed: {Message}", target.Name, ex.Message.Split('\n').Last());
        }
    }
}

/// <summary>
/// One API replica: processes on the host that the orchestrator started (`dotnet run`, and the API under it), not a
/// container. Killed with SIGKILL, the whole tree, and started again through the orchestrator (nothing restarts a dead
/// project on its own); frozen with SIGSTOP/SIGCONT, the whole tree.
/// </summary>
public sealed class ApiReplicaVictim(DistributedApplication app, string replica, int pid) : ChaosVictim($"{replica} (pid {pid})")
{
    // Aspire's name for the snapshot property holding an executable's process id.
    private const string PidProperty = "executable.pid";

    /// <summary>Replica <paramref name="index"/> of the API (by the orchestrator's names in order) and its process now.</summary>
    public static async Task<ApiReplicaVictim> OfAsync(DistributedApplication app, int index)
    {
        var (replica, snapshot) = (await ReplicasAsync(app)).ElementAt(index);
        var pid = snapshot.Properties.FirstOrDefault(p => p.Name == PidProperty)?.Value is { } value
            ? Convert.ToInt32(value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{replica} has no process right now.");
        return new ApiReplicaVictim(app, replica, pid);
    }

    /// <summary>
    /// Every API replica's id with its latest state, in order: the orchestrator reports each replica as a resource of
    /// its own under the API's name, and replays the latest state of each when watched.
    /// </summary>
    public static async Task<IReadOnlyList<(string Replica, CustomResourceSnapshot Snapshot)>> ReplicasAsync(DistributedApplication app)
    {
        var replicas = new SortedDictionary<string, CustomResourceSnapshot>(StringComparer.Ordinal);
        using var replayed = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync(replayed.Token))
            {
                if (update.Resource.Name == ResourceNames.Api)
                {
                    replicas[update.ResourceId] = update.Snapshot;
                }
            }
        }
        catch (OperationCanceledException) when (replayed.IsCancellationRequested)
        {
            // The replay is over; later updates are not needed.
        }

        return [.. replicas.Select(r => (r.Key, r.Value))];
    }

    public override async Task InjectAsync(Fault fault)
    {
        switch (fault)
        {
            case Fault.Kill:
                // The whole tree: the orchestrator's pid is `dotnet run`, the API is its child. Killing only the
                // launcher orphaned the API, which went on serving (the first run of the matrix measured nothing).
                using (var process = Process.GetProcessById(pid))
                {
                    process.Kill(entireProcessTree: true);
                }

                break;
            case Fault.Pause:
                await SignalAsync("STOP");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, "An API replica is a host process: it can be killed or frozen, not cut off.");
        }
    }

    public override async Task RepairAsync(Fault fault)
    {
        if (fault == Fault.Pause)
        {
            await SignalAsync("CONT");
            return;
        }

        var started = await app.ResourceCommands.ExecuteCommandAsync(replica, KnownResourceCommands.StartCommand);
        if (!started.Success)
        {
            throw new InvalidOperationException($"The orchestrator did not start {replica} again: {started.Message}");
        }
    }

    /// <summary>Signals the launcher and every process under it (the API itself is the launcher's child).</summary>
    private async Task SignalAsync(string signal)
    {
        var tree = ProcessTree(pid);
        using var kill = Process.Start("kill", [$"-{signal}", .. tree.Select(p => p.ToString(CultureInfo.InvariantCulture))]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {string.Join(' ', tree)} failed with {kill.ExitCode}.");
        }
    }

    /// <summary><paramref name="root"/> and its descendants, from /proc (each process's parent is field 4 of its stat).</summary>
    private static List<int> ProcessTree(int root)
    {
        var parentOf = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var id))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                    // After the command's closing parenthesis: state, then the parent's pid.
                    parentOf[id] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // Gone meanwhile.
                }
            }
        }

        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parentOf.Where(p => p.Value == tree[i]).Select(p => p.Key));
        }

        return tree;
    }
}
