using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace IshChat.Api.Data;

/// <summary>A host and port the API connects to (one PgBouncer).</summary>
public sealed record HostEndpoint(string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>
/// Listens to every PgBouncer the API spreads its connections over, and notices one that has gone silent: frozen, cut off
/// the network, or gone. A silent PgBouncer is the one failure the database driver can't see by itself: its kernel still
/// accepts connections and keeps established ones open, so Npgsql hands out idle pooled connections to it without a check,
/// and every command sent on one waits for as long as the silence lasts (a frozen PgBouncer paused writes for the whole
/// 25 s freeze, docs/failover.md). Here each PgBouncer gets a fresh connection every <see cref="ProbeInterval"/> and must
/// answer PostgreSQL's SSLRequest (PgBouncer answers it itself, without a server connection, so a flood queued in its pools
/// does not make it look silent). After <see cref="MissesToSilence"/> unanswered probes in a row the host is silent:
/// <see cref="SpreadDataSource"/> stops choosing it, its idle connections are dropped, and every transaction attempt waiting
/// on it is abandoned so the retry runs on another PgBouncer (<see cref="Attempt"/>). One answer makes it heard again.
/// </summary>
public sealed class SilentHostWatch(ILogger<SilentHostWatch> logger) : BackgroundService
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Generous for a PgBouncer on a loaded 2-core machine (it answers in well under a millisecond when idle).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(1500);

    /// <summary>Two, so one slow answer under CPU starvation does not move the load.</summary>
    public const int MissesToSilence = 2;

    // PostgreSQL's SSLRequest: length 8, code 80877103. Any PostgreSQL-speaking server answers one byte, 'S' or 'N'.
    private static readonly byte[] sslRequest = CreateSslRequest();

    private static readonly AsyncLocal<Attempt?> currentAttempt = new();

    private readonly ConcurrentDictionary<HostEndpoint, HostState> hosts = new();
    private readonly ConcurrentDictionary<Attempt, byte> attempts = new();
    private readonly ConcurrentDictionary<HostEndpoint, Action> onSilence = new();
    private readonly Lock gate = new();
    private CancellationToken? running;

    /// <summary>The transaction attempt the current async flow runs in, if any: the connections it opens are registered with it.</summary>
    public static Attempt? CurrentAttempt => currentAttempt.Value;

    /// <summary>Starts listening to <paramref name="endpoint"/>; <paramref name="silenced"/> runs each time it goes silent.</summary>
    public void Watch(HostEndpoint endpoint, Action silenced)
    {
        onSilence.AddOrUpdate(endpoint, silenced, (_, existing) => existing + silenced);
        lock (gate)
        {
            // Each host's probe loop starts once: here once the service runs, else when it starts.
            if (hosts.TryAdd(endpoint, new HostState()) && running is { } stoppingToken)
            {
                _ = ProbeLoopAsync(endpoint, stoppingToken);
            }
        }
    }

    /// <summary>Whether any host is watched (a single server or a single PgBouncer has nothing to move to).</summary>
    public bool WatchesAny => !hosts.IsEmpty;

    public bool IsSilent(HostEndpoint endpoint) => hosts.TryGetValue(endpoint, out var state) && state.Silent;

    /// <summary>
    /// Begins one attempt of a transaction for the current async flow (<see cref="CurrentAttempt"/>; call it in the async
    /// method that starts the transaction, so the flow of its caller stays outside): its <see cref="Attempt.Abandoned"/>
    /// task completes if a host it uses goes silent before <see cref="Attempt.Dispose"/>.
    /// </summary>
    public Attempt BeginAttempt()
    {
        var attempt = new Attempt(this);
        attempts.TryAdd(attempt, 0);
        currentAttempt.Value = attempt;
        return attempt;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (gate)
        {
            running = stoppingToken;
            foreach (var endpoint in hosts.Keys)
            {
                _ = ProbeLoopAsync(endpoint, stoppingToken);
            }
        }

        return Task.CompletedTask;
    }

    private async Task ProbeLoopAsync(HostEndpoint endpoint, CancellationToken cancellationToken)
    {
        var state = hosts[endpoint];
        using var timer = new PeriodicTimer(ProbeInterval);
        try
        {
            do
            {
                var error = await ProbeAsync(endpoint, cancellationToken);
                if (error is null)
                {
                    state.Misses = 0;
                    if (state.Silent)
                    {
                        state.Silent = false;
                        logger.LogInformation("PgBouncer {Host} answers again; connections go to it again", endpoint);
                    }
                }
                else if (++state.Misses >= MissesToSilence && !state.Silent)
                {
                    // In this order: no new connection chooses it, its idle ones are gone, then the attempts waiting on it retry.
                    state.Silent = true;
                    if (onSilence.TryGetValue(endpoint, out var silenced))
                    {
                        silenced();
                    }

                    var abandoned = AbandonAttemptsOn(endpoint);
                    logger.LogWarning(
                        "PgBouncer {Host} is silent ({Misses} probes unanswered, last: {Error}): no new connections to it, its idle ones dropped, {Abandoned} transaction attempts on it retried elsewhere",
                        endpoint, state.Misses, error, abandoned);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The API is stopping.
        }
    }

    /// <summary>Null when <paramref name="endpoint"/> answered an SSLRequest on a fresh connection in time, else why not.</summary>
    public static async Task<string?> ProbeAsync(HostEndpoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            await socket.SendAsync(sslRequest, SocketFlags.None, timeout.Token);
            var answer = new byte[1];
            var read = await socket.ReceiveAsync(answer, SocketFlags.None, timeout.Token);
            return read == 1 && answer[0] is (byte)'S' or (byte)'N' ? null
                : read == 0 ? "closed without answering" : $"answered {answer[0]:x2}, not S or N";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {ProbeTimeout.TotalMilliseconds:F0} ms";
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode.ToString();
        }
    }

    private int AbandonAttemptsOn(HostEndpoint endpoint)
    {
        var abandoned = 0;
        foreach (var attempt in attempts.Keys)
        {
            if (attempt.Uses(endpoint) && attempt.Abandon())
            {
                abandoned++;
            }
        }

        return abandoned;
    }

    private static byte[] CreateSslRequest()
    {
        var request = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(request, 8);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), 80877103);
        return request;
    }

    private sealed class HostState
    {
        public volatile bool Silent;
        public int Misses;
    }

    /// <summary>
    /// One try of a transaction and the PgBouncers its connections went to. Abandoned, not cancelled: cancelling a command
    /// makes Npgsql send PostgreSQL's cancel request over a new connection to the same silent PgBouncer and wait for it, so
    /// the caller stops waiting instead, and the attempt finishes (or fails) on its own when the host wakes. A write it had
    /// already committed is then found by the retry's idempotency (the same <c>clientMessageId</c>, Idempotency-Key).
    /// </summary>
    public sealed class Attempt(SilentHostWatch watch) : IDisposable
    {
        private readonly HashSet<HostEndpoint> used = [];
        private readonly TaskCompletionSource abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a PgBouncer this attempt uses goes silent.</summary>
        public Task Abandoned => abandoned.Task;

        /// <summary>
        /// Registers a connection of this attempt to <paramref name="endpoint"/>. A host that is silent already is only chosen
        /// when every host is, and then waiting for it is all there is to do: only a host going silent abandons.
        /// </summary>
        public void Use(HostEndpoint endpoint)
        {
            lock (used)
            {
                used.Add(endpoint);
            }
        }

        public bool Uses(HostEndpoint endpoint)
        {
            lock (used)
            {
                return used.Contains(endpoint);
            }
        }

        public bool Abandon() => abandoned.TrySetResult();

        /// <summary>Ends the attempt: a host going silent no longer concerns it.</summary>
        public void Dispose() => watch.attempts.TryRemove(this, out _);
    }
}
