using System.Diagnostics;
using IshChat.Cluster.Docker;
using IshChat.Cluster.Etcd;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Fencing;

/// <summary>
/// Fences a primary that stopped answering (frozen, cut off the network, hung) instead of letting the cluster wait
/// for its lease (ttl 20 s). Twice a second it reads the leader key in etcd and looks at the holder from two
/// independent vantage points: its Patroni REST API from this process, and etcd's quorum, which sees whether the
/// holder still renews its lease. Only when both agree (no REST answer for <see cref="FencingSettings.RestSilence"/>
/// and no renewal for <see cref="FencingSettings.LeaseSilence"/>), and another member answers to take over, is the
/// holder's container SIGKILLed by the runtime; once the runtime confirms it dead, its key is released with a
/// compare-and-delete on the key as read before the kill (holder and revision). A dead process cannot write, so
/// there are never two primaries; the container supervisor starts it again and it rejoins as a replica (pg_rewind).
/// </summary>
public sealed class PrimaryFencer(
    FencingSettings settings,
    HttpMessageHandler restHandler,
    EtcdLeaderKey leaderKey,
    Func<IReadOnlyList<Uri>> etcdClientUrls,
    Func<CancellationToken, Task<IReadOnlyList<FencedNode>>> nodes,
    ILogger logger) : IAsyncDisposable
{
    // Patroni's REST API is HTTPS from the cluster CA: the caller's handler trusts it (ClusterHttp).
    private readonly HttpClient http = new(restHandler, disposeHandler: false) { Timeout = settings.ProbeTimeout };
    private readonly CancellationTokenSource stopping = new();
    private Task? watching;
    private LeaderKeyState? watched;
    private long lastAnswerAt;

    // The container that answered as the holder in this term. Only a primary seen alive and then silent is fenced:
    // a holder that has not answered yet is booting (a restarted AppHost finds its old leader key before the node
    // is up) and its lease decides, as without fencing.
    private string? answeredContainer;

    /// <summary>Primaries fenced.</summary>
    public int Fences { get; private set; }

    /// <summary>Rounds in which the leader was looked at (the denominator of the counts below).</summary>
    public int Rounds { get; private set; }

    /// <summary>Probes of the leader's REST API that went unanswered: one vantage point's doubts.</summary>
    public int UnansweredProbes { get; private set; }

    /// <summary>Rounds in which the leader's lease had gone unrenewed past <see cref="FencingSettings.LeaseSilence"/>.</summary>
    public int LapsedLeaseRounds { get; private set; }

    public void Start()
    {
        settings.Validate();
        watching ??= Task.Run(() => WatchAsync(stopping.Token));
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAll(LookAsync(cancellationToken), Task.Delay(settings.ProbeInterval, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogDebug("Fencing round failed: {Message}", ex.Message);
                await Task.Delay(settings.ProbeInterval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LookAsync(CancellationToken cancellationToken)
    {
        // Without an etcd quorum nothing is known for sure (and Patroni demotes the leader on its own): no fencing.
        if (await FirstAnswerAsync((etcd, ct) => leaderKey.ReadAsync(etcd, ct), cancellationToken) is not ({ } etcd, { } key))
        {
            watched = null;
            return;
        }

        if (watched is null || watched.Holder != key.Holder || watched.ModRevision != key.ModRevision)
        {
            // A new leader (or a new term of the same one) starts with the benefit of the doubt.
            watched = key;
            lastAnswerAt = Stopwatch.GetTimestamp();
            answeredContainer = null;
        }

        var members = await nodes(cancellationToken);
        if (members.FirstOrDefault(n => n.Name == key.Holder) is not { } holder)
        {
            return;
        }

        Rounds++;
        var leaseProbe = leaderKey.LeaseSilenceAsync(etcd, key.Lease, cancellationToken);
        if (await AnswersAsync(holder, cancellationToken))
        {
            lastAnswerAt = Stopwatch.GetTimestamp();
            answeredContainer = holder.ContainerId;
        }
        else
        {
            UnansweredProbes++;
        }

        var leaseSilence = await leaseProbe;
        var restSilence = Stopwatch.GetElapsedTime(lastAnswerAt);
        if (leaseSilence >= settings.LeaseSilence)
        {
            LapsedLeaseRounds++;
        }

        if (restSilence < settings.RestSilence || leaseSilence < settings.LeaseSilence || answeredContainer != holder.ContainerId)
        {
            return;
        }

        // Fencing the only node that could serve would turn a slow cluster into a dead one.
        var peers = members.Where(n => n.Name != holder.Name).ToList();
        var answering = await Task.WhenAll(peers.Select(p => AnswersAsync(p, cancellationToken)));
        if (!answering.Any(a => a))
        {
            logger.LogWarning("{Node} holds the leader key and is silent, but no other member answers to take over; not fencing", holder.Name);
            return;
        }

        await FenceAsync(etcd, holder, key, restSilence, leaseSilence, cancellationToken);
    }

    private async Task FenceAsync(Uri etcd, FencedNode holder, LeaderKeyState seen, TimeSpan restSilence, TimeSpan leaseSilence, CancellationToken cancellationToken)
    {
        logger.LogWarning(
            "Fencing {Node}: its REST API silent for {Rest:F1} s and its etcd lease unrenewed for {Lease:F0} s; SIGKILL through the container runtime",
            holder.Name, restSilence.TotalSeconds, leaseSilence.TotalSeconds);
        // A paused container is killed too (the runtime delivers SIGKILL through the freezer).
        await DockerCli.ExecuteAsync(["kill", "--signal", "KILL", holder.ContainerId], cancellationToken: cancellationToken);
        if (!await DockerCli.IsConfirmedDeadAsync(holder.ContainerId, cancellationToken))
        {
            logger.LogWarning("{Node} is not confirmed dead after the kill; its key stays until its lease runs out", holder.Name);
            return;
        }

        Fences++;
        watched = null;
        var released = await FirstAnswerAsync((etcd, ct) => leaderKey.ReleaseIfUnchangedAsync(etcd, seen, ct), cancellationToken, preferred: etcd);
        logger.LogWarning("Fenced {Node}; leader key released: {Released} (false: it had already changed)", holder.Name, released.Answer);
    }

    private async Task<bool> AnswersAsync(FencedNode node, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(node.RestUrl, "liveness"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The first etcd member's answer (down, slow or cut-off members are skipped), and which member gave it.</summary>
    private async Task<(Uri? Member, T? Answer)> FirstAnswerAsync<T>(Func<Uri, CancellationToken, Task<T>> ask, CancellationToken cancellationToken, Uri? preferred = null)
    {
        var members = etcdClientUrls();
        foreach (var member in preferred is null ? members : members.Prepend(preferred).Distinct())
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(settings.ProbeTimeout);
                return (member, await ask(member, timeout.Token));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("etcd {Etcd} did not answer: {Message}", member, ex.Message);
            }
        }

        return (null, default);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (watching is not null)
        {
            await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        stopping.Dispose();
        http.Dispose();
    }
}
