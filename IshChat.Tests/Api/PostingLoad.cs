using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Messages;

namespace IshChat.Tests.Api;

/// <summary>What the Jepsen-style check found after a load: see <see cref="PostingLoad.CheckAsync"/>.</summary>
public sealed record LoadCheck(int Acknowledged, int Lost, int Duplicated, int ReusedSequenceNumbers, int MissedByCursorPolls, int Resent, string Summary);

/// <summary>
/// The API load the failover tests and the chaos matrix run under, on one conversation: writers post (each with its own
/// client message id) and read the newest page back with the consistency token, as a chat client does; cursor pollers
/// follow the conversation with <c>after=&lt;cursor&gt;</c>. Like a chat app, a client whose connection is lost before
/// any answer (the API replica serving it died) sends the same request again: a post with the same client message id,
/// which the API answers with the stored message if the first one committed (docs/api.md). Every acknowledged id, every sequence number handed out and
/// every client-visible error (labelled with the phase it happened in) is kept; the Jepsen-style check then compares
/// them with what is stored.
/// </summary>
public sealed class PostingLoad : IAsyncDisposable
{
    private const int CursorPollers = 2;

    /// <summary>A lost connection is sent again at most this many times, after <see cref="resendDelay"/>: a second
    /// replica is there at once, so more would only hide an outage.</summary>
    private const int ResendsAtMost = 2;

    private static readonly TimeSpan resendDelay = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<Guid, bool> acknowledged = new();
    private readonly ConcurrentQueue<string> errors = new();
    private readonly SequenceLedger ledger = new();
    private readonly LongestPause writePause = new();
    private readonly LongestPause readPause = new();
    private readonly CancellationTokenSource stop = new();
    private readonly CursorPoller[] pollers;
    private readonly Task[] clients;
    private readonly ChatApiClient api;
    private readonly TestInstance instance;
    private readonly Guid session;
    private string? newestToken;
    private int resent;

    private PostingLoad(ChatApiClient api, TestInstance instance, Guid device, Guid session, int writerCount)
    {
        this.api = api;
        this.instance = instance;
        this.session = session;
        pollers = [.. Enumerable.Range(0, CursorPollers).Select(_ => new CursorPoller(api, instance, session, ledger, readPause))];
        clients =
        [
            .. Enumerable.Range(0, writerCount).Select(w => Task.Run(() => WriteAsync(w, device))),
            .. pollers.Select(p => Task.Run(() => PollAsync(p))),
        ];
    }

    /// <summary>What the faults are doing now; errors carry it.</summary>
    public string Phase { get; set; } = "start";

    public IReadOnlyCollection<Guid> Acknowledged => [.. acknowledged.Keys];

    public IReadOnlyList<string> Errors => [.. errors];

    /// <summary>The longest time no writer had a post acknowledged: what a fault or a planned change costs writers.</summary>
    public TimeSpan LongestPause => writePause.Longest;

    /// <summary>The longest time no read (a writer's read-back or a cursor poll) succeeded.</summary>
    public TimeSpan LongestReadPause => readPause.Longest;

    public static async Task<PostingLoad> StartAsync(ChatApiClient api, int writers)
    {
        var instance = await api.CreateInstanceAsync();
        var device = await api.RegisterDeviceAsync(instance);
        // The client that opened the session reads it with the creation's token: without it, a poll before the first
        // post may reach a replica that has not replayed the session yet and rightly answer 404.
        var (session, token) = await api.StartSessionWithTokenAsync(instance, device);
        return new PostingLoad(api, instance, device, session, writers) { newestToken = token };
    }

    private async Task WriteAsync(int writer, Guid device)
    {
        while (!stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid();
            string token;
            try
            {
                using var posted = await ResendingOnLostConnectionAsync(() => api.PostMessageAsync(instance, session, device, $"writer {writer}", id));
                if (posted.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK))
                {
                    errors.Enqueue($"{Phase}: post {(int)posted.StatusCode}");
                    continue;
                }

                acknowledged[id] = true;
                writePause.Success();
                ledger.Saw((await posted.Content.ReadFromJsonAsync<MessageResponse>())!.Seq, id);
                token = newestToken = ChatApiClient.TokenOf(posted);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                errors.Enqueue($"{Phase}: post {ex.GetType().Name}");
                continue;
            }

            await ReadBackAsync(token);
        }
    }

    /// <summary>The newest page with the post's token, as the poster's own screen reads it: it must hold the post.</summary>
    private async Task ReadBackAsync(string token)
    {
        try
        {
            using var read = await ResendingOnLostConnectionAsync(() => api.SendAsync(HttpMethod.Get, $"/sessions/{session}/messages", instance.ApiKey, token: token));
            if (read.StatusCode == HttpStatusCode.OK)
            {
                readPause.Success();
            }
            else
            {
                errors.Enqueue($"{Phase}: read {(int)read.StatusCode}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            errors.Enqueue($"{Phase}: read {ex.GetType().Name}");
        }
    }

    private async Task PollAsync(CursorPoller poller)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await ResendingOnLostConnectionAsync(() => poller.PollAsync(newestToken));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                errors.Enqueue($"{Phase}: poll {(ex is HttpRequestException { StatusCode: { } status } ? ((int)status).ToString(CultureInfo.InvariantCulture) : ex.GetType().Name)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Sends again what got no answer at all because the connection was lost (an <see cref="HttpRequestException"/>
    /// without a status code: reset, refused); an answer, even an error status, or a time-out is the client's to see.
    /// </summary>
    private async Task<T> ResendingOnLostConnectionAsync<T>(Func<Task<T>> send)
    {
        for (var resends = 0; ; resends++)
        {
            try
            {
                return await send();
            }
            catch (HttpRequestException ex) when (ex.StatusCode is null && resends < ResendsAtMost && !stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref resent);
                await Task.Delay(resendDelay);
            }
        }
    }

    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(clients);
    }

    /// <summary>Every stored message's client id with how often it is stored, paged forward from the start.</summary>
    public async Task<Dictionary<Guid, int>> StoredAsync()
    {
        var counts = new Dictionary<Guid, int>();
        var after = 0L;
        while (true)
        {
            var (page, _) = await api.ListMessagesAsync(instance, session, $"?after={after}&limit=200", newestToken);
            foreach (var message in page.Items)
            {
                ledger.Saw(message.Seq, message.ClientMessageId);
                counts[message.ClientMessageId] = counts.GetValueOrDefault(message.ClientMessageId) + 1;
                after = Math.Max(after, message.Seq);
            }

            if (page.Items.Count < 200)
            {
                return counts;
            }
        }
    }

    /// <summary>
    /// Acknowledged posts missing or stored twice; sequence numbers handed out for two different messages; acknowledged
    /// messages that are stored but that a cursor poller, having caught up, never saw (its cursor had already passed
    /// their number). Plus one line for the test log with errors by phase.
    /// </summary>
    public async Task<LoadCheck> CheckAsync()
    {
        foreach (var poller in pollers)
        {
            await poller.CatchUpAsync(newestToken);
        }

        var stored = await StoredAsync();
        var lost = acknowledged.Keys.Count(id => !stored.ContainsKey(id));
        var duplicated = stored.Count(s => s.Value > 1);
        var missed = acknowledged.Keys.Count(id => stored.ContainsKey(id) && pollers.Any(p => !p.Seen.Contains(id)));
        var summary = $"acknowledged {acknowledged.Count}, stored {stored.Count}, lost {lost}, duplicated {duplicated}, " +
            $"sequence numbers reused {ledger.Reused}, missed by cursor polls {missed}, longest write pause {LongestPause.TotalSeconds:F1} s, " +
            $"longest read pause {LongestReadPause.TotalSeconds:F1} s, resent after a lost connection {resent}, client-visible errors {errors.Count} " +
            $"({string.Join(", ", errors.GroupBy(e => e).Select(g => $"{g.Key} ×{g.Count()}"))})";
        return new LoadCheck(acknowledged.Count, lost, duplicated, ledger.Reused, missed, resent, summary);
    }

    public async ValueTask DisposeAsync()
    {
        if (!stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        stop.Dispose();
    }
}
