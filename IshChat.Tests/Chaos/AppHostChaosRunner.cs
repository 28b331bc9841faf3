using System.Diagnostics;
using IshChat.AppHost.Hosting.Etcd;
using IshChat.AppHost.Hosting.HAProxy;
using IshChat.AppHost.Hosting.PgBouncer;
using IshChat.Cluster.Chaos;
using IshChat.Cluster.Faults;
using IshChat.Tests.Api;
using IshChat.Tests.EndToEnd;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace IshChat.Tests.Chaos;

/// <summary>
/// Runs chaos-matrix rows (<see cref="ChaosMatrix"/>) on the whole AppHost: for each, a whole system, the API load
/// (<see cref="PostingLoad"/>: posts, read-backs with the token, cursor polls), the fault on one component for
/// <see cref="ChaosMatrix.FaultDuration"/> (a kill: until the self-healing has it back), the repair, the system whole
/// again, then the Jepsen-style check. The failover test and the benchmark (bench/chaos.sh) share it.
/// </summary>
public sealed class AppHostChaosRunner(AppHostClusterFixture fixture, ITestOutputHelper output)
{
    private const int Writers = 4;

    /// <summary>The cluster is whole well within this after any row; a row that needs longer has failed.</summary>
    private static readonly TimeSpan recovery = TimeSpan.FromMinutes(3);

    /// <summary>Load before the fault, so a row starts from a steady state, and after recovery, so the last outage is closed.</summary>
    private static readonly TimeSpan steady = TimeSpan.FromSeconds(3);

    /// <summary>A killed container is back within a second or two; the load runs on this long, so its return is under load too.</summary>
    private static readonly TimeSpan afterKill = TimeSpan.FromSeconds(8);

    private DistributedApplication App => fixture.App;

    public async Task<ChaosTopology> TopologyAsync()
    {
        var resources = App.Services.GetRequiredService<DistributedApplicationModel>().Resources;
        return new ChaosTopology(
            resources.OfType<EtcdClusterResource>().Single().Members.Count,
            resources.OfType<PgBouncerResource>().Single().Instances.Count,
            resources.OfType<HAProxyResource>().Single().Instances.Count,
            (await ApiReplicaVictim.ReplicasAsync(App)).Count,
            fixture.Cluster.Settings.SynchronousMode);
    }

    public ChaosGoal Goal => ChaosGoal.Of(fixture.Cluster.Settings);

    public async Task<ChaosOutcome> RunAsync(ChaosRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        try
        {
            await WaitUntilWholeAsync();
        }
        catch (TimeoutException ex)
        {
            return ChaosOutcome.NotRun($"the system was not whole before the fault: {ex.Message}");
        }

        var (http, adminKey) = await fixture.ChatApiAsync();
        await using var load = await PostingLoad.StartAsync(new ChatApiClient(http, adminKey), Writers);
        load.Phase = "before";
        await Task.Delay(steady);

        var victim = await VictimAsync(row.Component);
        load.Phase = row.Name;
        var clock = Stopwatch.StartNew();
        await victim.InjectAsync(row.Fault);
        await Task.Delay(row.Fault == Fault.Kill ? afterKill : ChaosMatrix.FaultDuration(fixture.Cluster.Settings));
        await victim.RepairAsync(row.Fault);
        load.Phase = "recovery";
        string? failure = null;
        try
        {
            await WaitUntilWholeAsync();
        }
        catch (TimeoutException ex)
        {
            failure = $"not whole again within {recovery.TotalMinutes:F0} min: {ex.Message}";
        }

        var whole = clock.Elapsed;
        await Task.Delay(steady);
        await load.StopAsync();
        var check = await load.CheckAsync();
        output.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {row.Name} ({victim}), whole again {whole.TotalSeconds:F0} s after the fault: {check.Summary}");
        return new ChaosOutcome(check.Acknowledged, load.Errors.Count, load.LongestPause, load.LongestReadPause,
            check.Lost, check.Duplicated, check.ReusedSequenceNumbers, check.MissedByCursorPolls, check.Resent) { Failure = failure };
    }

    private async Task<ChaosVictim> VictimAsync(ChaosComponent component)
    {
        if (component.Tier == ChaosTier.Api)
        {
            return await ApiReplicaVictim.OfAsync(App, component.Index ?? 0);
        }

        var name = component.Tier switch
        {
            ChaosTier.PatroniLeader => (await SettledClusterAsync()).Leader!.Name,
            ChaosTier.PatroniSynchronousStandby => (await SettledClusterAsync()).Members.First(m => m.IsSynchronousStandby).Name,
            ChaosTier.PatroniReplica => (await SettledClusterAsync()).Members.First(m => !m.IsLeader && !m.IsSynchronousStandby).Name,
            _ => component.Name,
        };
        var resource = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
        // The AppHost's own log (the test output): a fault or repair that did not happen says so there.
        return await ContainerVictim.OfAsync(App, resource, App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chaos"));
    }

    private Task<ClusterState> SettledClusterAsync() =>
        Eventually.GetAsync(fixture.PatroniClusterAsync, fixture.IsHealthy, recovery, "a settled cluster");

    /// <summary>
    /// Every tier healthy by its own check, every API replica running, the Patroni cluster healthy by its one rule.
    /// The AppHost's health checks run every few seconds, so a just-repaired tier is first given time to be seen.
    /// </summary>
    private async Task WaitUntilWholeAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(5));
        using var timeout = new CancellationTokenSource(recovery);
        var waitingFor = "the Patroni cluster";
        try
        {
            await SettledClusterAsync();
            var etcd = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<EtcdClusterResource>().Single();
            foreach (var name in etcd.Members.Select(m => m.Name).Concat([ResourceNames.HAProxy, ResourceNames.PgBouncer, ResourceNames.Redis]))
            {
                waitingFor = name;
                await App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }

            waitingFor = "the API replicas";
            await Eventually.GetAsync(
                _ => ApiReplicaVictim.ReplicasAsync(App), replicas => replicas.All(r => r.Snapshot.State?.Text == KnownResourceStates.Running),
                recovery, "every API replica running", timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"{waitingFor} not healthy within {recovery.TotalMinutes:F0} min ({StateOf(waitingFor)})");
        }
    }

    /// <summary>What the orchestrator last said about <paramref name="resource"/>: state and health, to tell a stale health status from a down tier.</summary>
    private string StateOf(string resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource, out var state)
            ? $"state {state.Snapshot.State?.Text ?? "unknown"}, health {state.Snapshot.HealthStatus?.ToString() ?? "unknown"}, " +
              string.Join("; ", state.Snapshot.HealthReports.Select(r => $"{r.Name}: {r.Status} {r.Description}"))
            : "no state";
}
