using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using IshChat.Api.Messages;

namespace IshChat.Tests.Api;

/// <summary>What the Jepsen-style check found after a load: see <see cref="PostingLoad.CheckAsync"/>.</summary>
public sealed record LoadCheck(int Acknowledged, int Lost, int Duplicated, int ReusedSequenceNumbers, int MissedByCursorPolls, string Summary);

/// <summary>
/// The API load the failover tests and the chaos matrix run under, on one conversation: writers post (each with its own
/// client message id) and read the newest page back with the consistency token, as a chat client does; cursor pollers
/// follow the conversation with <c>after=&lt;cursor&gt;</c>. Every acknowledged id, every sequence number handed out and
/// every client-visible error (labelled with the phase it happened in) is kept; the Jepsen-style check then compares
/// them with what is stored.
/// </summary>
public sealed class PostingLoad : IAsyncDisposable
{
    private const int CursorPollers = 2;

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
        var (instance, device, session) = await api.CreateConversationAsync();
        return new PostingLoad(api, instance, device, session, writers);
    }

    private async Task WriteAsync(int writer, Guid device)
    {
        while (!stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid();
            string token;
            try
            {
                using var posted = await api.PostMessageAsync(instance, session, device, $"writer {writer}", id);
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
            using var read = await api.SendAsync(HttpMethod.Get, $"/sessions/{session}/messages", instance.ApiKey, token: token);
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
                await poller.PollAsync(newestToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                errors.Enqueue($"{Phase}: poll {ex.GetType().Name}");
            }

            await Task.Delay(100);
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
            $"longest read pause {LongestReadPause.TotalSeconds:F1} s, client-visible errors {errors.Count} " +
            $"({string.Join(", ", errors.GroupBy(e => e).Select(g => $"{g.Key} ×{g.Count()}"))})";
        return new LoadCheck(acknowledged.Count, lost, duplicated, ledger.Reused, missed, summary);
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
