namespace IshChat.Cluster.Faults;

/// <summary>How a fault and its repair are named to people (dashboard commands, logs) and to command lines (benchmarks).</summary>
public sealed record FaultDescription(Fault Fault, string Verb, string Title, string Description, string? RepairVerb, string? RepairTitle)
{
    public static IReadOnlyList<FaultDescription> All { get; } =
    [
        new(Fault.Kill, "kill", "Kill (SIGKILL)", "SIGKILLs the container, as a host crash would.", "start", "Start again"),
        new(Fault.Stop, "stop", "Stop (SIGTERM)", "Stops the container gracefully; Patroni hands over leadership on the way out.", "start", "Start again"),
        new(Fault.Crash, "crash", "Crash PostgreSQL", "SIGKILLs the postmaster only; Patroni restarts it or fails over.", null, null),
        new(Fault.Pause, "pause", "Pause (freeze)", "Freezes every process: alive but silent, its lease runs out.", "unpause", "Unpause"),
        new(Fault.Partition, "partition", "Partition from the network", "Disconnects the container from the cluster's network: it runs on but reaches no one.", "reconnect", "Reconnect to the network"),
    ];

    public static FaultDescription Of(Fault fault) => All.Single(d => d.Fault == fault);

    /// <summary>The fault a command line names (<c>kill</c>, <c>stop</c>, <c>crash</c>, <c>pause</c>, <c>partition</c>).</summary>
    public static bool TryParse(string verb, out Fault fault)
    {
        var match = All.FirstOrDefault(d => string.Equals(d.Verb, verb, StringComparison.OrdinalIgnoreCase));
        fault = match?.Fault ?? default;
        return match is not null;
    }

    public static string Verbs => string.Join(", ", All.Select(d => d.Verb));
}
