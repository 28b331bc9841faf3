using System.Collections.Concurrent;

namespace IshChat.Api.Data;

/// <summary>
/// Sessions' last-activity times, written off the request path: a request only notes the time in
/// memory; once a second the notes are written in one UPDATE per instance. Best effort by design:
/// a crash loses at most a second of last-activity updates, never a message.
/// </summary>
public sealed class ActivityRecorder(ChatDatabase database, ILogger<ActivityRecorder> logger) : BackgroundService
{
    private static readonly TimeSpan flushInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(Guid InstanceId, Guid SessionId), DateTimeOffset> pending = new();

    public void Record(Guid instanceId, Guid sessionId, DateTimeOffset at) =>
        pending.AddOrUpdate((instanceId, sessionId), at, (_, earlier) => earlier > at ? earlier : at);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(flushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: one last flush, with a little time of its own.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await FlushAsync(grace.Token);
        }
    }

    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = new List<(Guid InstanceId, Guid SessionId, DateTimeOffset At)>();
        foreach (var key in pending.Keys)
        {
            if (pending.TryRemove(key, out var at))
            {
                batch.Add((key.InstanceId, key.SessionId, at));
            }
        }

        foreach (var instance in batch.GroupBy(b => b.InstanceId))
        {
            try
            {
                await database.WriteAsync(instance.Key, (connection, ct) => connection.Command("""
                    UPDATE chat.sessions AS s SET last_activity_at = greatest(s.last_activity_at, a.at)
                      FROM unnest($2::uuid[], $3::timestamptz[]) AS a(session_id, at)
                     WHERE s.instance_id = $1 AND s.session_id = a.session_id
                    """, instance.Key, instance.Select(b => b.SessionId).ToArray(), instance.Select(b => b.At).ToArray()).ExecuteAsync(ct), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Last-activity update for {Count} sessions failed ({Message}); it will be retried", instance.Count(), ex.Message);
                foreach (var (instanceId, sessionId, at) in instance)
                {
                    Record(instanceId, sessionId, at);
                }
            }
        }
    }
}
