using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace IshChat.Tests.Api;

/// <summary>
/// Writers posting to one conversation through the chat API while a test injects faults: every acknowledged client
/// message id, and every client-visible error labelled with the phase it happened in. The Jepsen-style check then
/// compares what was acknowledged with what is stored.
/// </summary>
public sealed class PostingLoad : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, bool> acknowledged = new();
    private readonly ConcurrentQueue<string> errors = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long lastAcknowledgedTicks;
    private long longestPauseTicks;
    private readonly CancellationTokenSource stop = new();
    private readonly Task[] writers;
    private readonly ChatApiClient api;
    private readonly TestInstance instance;
    private readonly Guid session;

    private PostingLoad(ChatApiClient api, TestInstance instance, Guid device, Guid session, int writerCount)
    {
        this.api = api;
        this.instance = instance;
        this.session = session;
        writers = [.. Enumerable.Range(0, writerCount).Select(w => Task.Run(() => WriteAsync(w, device)))];
    }

    /// <summary>What the faults are doing now; errors carry it.</summary>
    public string Phase { get; set; } = "start";

    public IReadOnlyCollection<Guid> Acknowledged => [.. acknowledged.Keys];

    public IReadOnlyList<string> Errors => [.. errors];

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
            try
            {
                using var posted = await api.PostMessageAsync(instance, session, device, $"writer {writer}", id);
                if (posted.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    acknowledged[id] = true;
                    NoteAcknowledgement();
                }
                else
                {
                    errors.Enqueue($"{Phase}: {(int)posted.StatusCode}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                errors.Enqueue($"{Phase}: {ex.GetType().Name}");
            }
        }
    }

    /// <summary>The longest time no writer had a post acknowledged: what a planned change costs writers.</summary>
    public TimeSpan LongestPause => TimeSpan.FromTicks(Interlocked.Read(ref longestPauseTicks));

    private void NoteAcknowledgement()
    {
        var now = clock.Elapsed.Ticks;
        var previous = Interlocked.Exchange(ref lastAcknowledgedTicks, now);
        var pause = now - previous;
        long longest;
        while (pause > (longest = Interlocked.Read(ref longestPauseTicks)) && Interlocked.CompareExchange(ref longestPauseTicks, pause, longest) != longest)
        {
        }
    }

    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(writers);
    }

    /// <summary>Every stored message's client id with how often it is stored, paged forward from the start.</summary>
    public async Task<Dictionary<Guid, int>> StoredAsync()
    {
        var counts = new Dictionary<Guid, int>();
        var after = 0L;
        while (true)
        {
            var (page, _) = await api.ListMessagesAsync(instance, session, $"?after={after}&limit=200");
            foreach (var message in page.Items)
            {
                counts[message.ClientMessageId] = counts.GetValueOrDefault(message.ClientMessageId) + 1;
                after = Math.Max(after, message.Seq);
            }

            if (page.Items.Count < 200)
            {
                return counts;
            }
        }
    }

    /// <summary>One line for the test log: acknowledged, stored, lost, duplicated, errors by phase.</summary>
    public async Task<(int Lost, int Duplicated, string Summary)> CheckAsync()
    {
        var stored = await StoredAsync();
        var lost = acknowledged.Keys.Count(id => !stored.ContainsKey(id));
        var duplicated = stored.Count(s => s.Value > 1);
        var summary = $"acknowledged {acknowledged.Count}, stored {stored.Count}, lost {lost}, duplicated {duplicated}, " +
            $"client-visible errors {errors.Count} ({string.Join(", ", errors.GroupBy(e => e).Select(g => $"{g.Key} ×{g.Count()}"))})";
        return (lost, duplicated, summary);
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
