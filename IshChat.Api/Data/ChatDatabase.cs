using System.Diagnostics;
using IshChat.Api.Auth;
using IshChat.Api.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using IshChat.ServiceDefaults;

namespace IshChat.Api.Data;

/// <summary>Where a read was served: a replica that had caught up, the primary, or the query cache.</summary>
public enum ReadRoute
{
    Replica,
    Primary,
    Cache,
}

/// <summary>A read's result, where it was served, and the WAL position the data is at least as new as.</summary>
public sealed record ReadResult<T>(T Value, ReadRoute Route, NpgsqlLogSequenceNumber Position);

/// <summary>A write's result and the token that lets the client read it back from any replica.</summary>
public sealed record WriteResult<T>(T Value, ConsistencyToken Token);

/// <summary>
/// Every statement runs inside a transaction scoped to one instance with
/// <c>set_config('ishchat.instance_id', …, true)</c>: under PgBouncer's transaction pooling a
/// session setting would stay on the server connection and leak to the next client.
/// Writes go to PgBouncer's read-write entry, reads to the read-only one; whole transactions are
/// retried on transient errors (so <paramref name="work"/> must be safe to run again).
/// </summary>
public sealed partial class ChatDatabase(ChatDataSources dataSources, ApiMetrics metrics, ILogger<ChatDatabase> logger, SilentHostWatch? silentHosts = null)
{
    public const string ReadWriteName = ResourceNames.ChatDatabase;
    public const string ReadOnlyName = ResourceNames.ChatDatabaseReadOnly;

    /// <summary>The admin API's database (its own role, the instance directory); reads and writes both on the primary.</summary>
    public const string AdminName = ResourceNames.ChatDatabaseAdmin;

    // The instance also goes into application_name for the transaction: pgaudit's lines carry it (log_line_prefix %a).
    private const string ScopeAndPositionSql = """
        SELECT set_config('ishchat.instance_id', $1, true),
               set_config('application_name', 'ishchat-api instance=' || $1, true),
               CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END
        """;

    public RetryPolicy RetryPolicy { get; init; } = RetryPolicy.Default;

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction on the primary, through the pool of the calling instance's type,
    /// and returns the commit's consistency token.
    /// </summary>
    public Task<WriteResult<T>> WriteAsync<T>(InstanceContext instance, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(dataSources.For(instance.InstanceType), instance.InstanceId, work, cancellationToken);

    /// <summary>As above through the shared pool: admin work and background flushes, which no instance's plan pays for.</summary>
    public Task<WriteResult<T>> WriteAsync<T>(Guid instanceId, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(dataSources.Shared, instanceId, work, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> on a replica, through the pool of the calling instance's type, unless a
    /// <paramref name="token"/> names a write the replica has not replayed yet: then on the primary, so a client never
    /// misses its own write.
    /// </summary>
    public Task<ReadResult<T>> ReadAsync<T>(
        InstanceContext instance, ConsistencyToken? token, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        ReadAsync(dataSources.For(instance.InstanceType), instance.InstanceId, token, work, cancellationToken);

    /// <summary>As above through the shared pool (admin reads).</summary>
    public Task<ReadResult<T>> ReadAsync<T>(
        Guid instanceId, ConsistencyToken? token, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        ReadAsync(dataSources.Shared, instanceId, token, work, cancellationToken);

    private Task<WriteResult<T>> WriteAsync<T>(DataSourcePair pool, Guid instanceId, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithRetriesAsync(async ct =>
        {
            await using var connection = await pool.Primary.OpenConnectionAsync(ct);
            T value;
            await using (var transaction = await connection.BeginTransactionAsync(ct))
            {
                await ScopeAsync(connection, instanceId, ct);
                value = await work(connection, ct);
                await transaction.CommitAsync(ct);
            }

            // After the commit returned, any primary backend's WAL position is at or past our commit record.
            await using var position = new NpgsqlCommand("SELECT pg_current_wal_lsn()", connection);
            var lsn = (NpgsqlLogSequenceNumber)(await position.ExecuteScalarAsync(ct))!;
            return new WriteResult<T>(value, new ConsistencyToken(lsn));
        }, cancellationToken);

    private Task<ReadResult<T>> ReadAsync<T>(
        DataSourcePair pool, Guid instanceId, ConsistencyToken? token, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RoutedReadAsync(pool, token, (source, route, required, ct) => TryReadAsync(source, route, instanceId, required, work, ct), cancellationToken);

    /// <summary>
    /// A read on a replica by <paramref name="tryRead"/>, which answers null when that replica has not replayed the token;
    /// then on the primary, without a token. Retried whole on transient errors.
    /// </summary>
    private Task<ReadResult<T>> RoutedReadAsync<T>(
        DataSourcePair pool, ConsistencyToken? token,
        Func<SpreadDataSource, ReadRoute, ConsistencyToken?, CancellationToken, Task<ReadResult<T>?>> tryRead, CancellationToken cancellationToken) =>
        WithRetriesAsync(async ct =>
        {
            var fromReplica = await tryRead(pool.Replicas, ReadRoute.Replica, token, ct);
            if (fromReplica is not null)
            {
                metrics.ReadRouted(ReadRoute.Replica);
                return fromReplica;
            }

            metrics.ReadRouted(ReadRoute.Primary);
            return (await tryRead(pool.Primary, ReadRoute.Primary, null, ct))!;
        }, cancellationToken);

    /// <summary>Whether a server at <paramref name="position"/> has replayed <paramref name="token"/> (yes without one); counted when there is one.</summary>
    private bool HasReplayed(ConsistencyToken? token, NpgsqlLogSequenceNumber position)
    {
        if (token is not { } required)
        {
            return true;
        }

        var caughtUp = required.IsReachedBy(position);
        metrics.ConsistencyTokenWaited(caughtUp);
        return caughtUp;
    }

    /// <summary>Runs unscoped <paramref name="work"/> (the SECURITY DEFINER directory functions) on the primary.</summary>
    public Task<T> DirectoryAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithRetriesAsync(async ct =>
        {
            await using var connection = await dataSources.Shared.Primary.OpenConnectionAsync(ct);
            return await work(connection, ct);
        }, cancellationToken);

    private async Task<ReadResult<T>?> TryReadAsync<T>(
        SpreadDataSource dataSource, ReadRoute route, Guid instanceId, ConsistencyToken? token, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One transaction, so the position check and the read meet the same server behind PgBouncer and HAProxy.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var position = await ScopeAsync(connection, instanceId, cancellationToken);
        if (!HasReplayed(token, position))
        {
            return null;
        }

        var value = await work(connection, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ReadResult<T>(value, route, position);
    }

    private static async Task<NpgsqlLogSequenceNumber> ScopeAsync(NpgsqlConnection connection, Guid instanceId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ScopeAndPositionSql, connection) { Parameters = { new() { Value = instanceId.ToString() } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetFieldValue<NpgsqlLogSequenceNumber>(2);
    }

    private async Task<T> WithRetriesAsync<T>(Func<CancellationToken, Task<T>> transaction, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await AttemptAsync(transaction, cancellationToken) is (true, var value))
                {
                    return value!;
                }

                // A PgBouncer the attempt waited on went silent: the retry goes to another one, straight away.
                metrics.TransactionRetried("silent_pgbouncer");
                logger.LogWarning("Transaction attempt {Attempt} abandoned: its PgBouncer went silent; retrying on another", attempt);
                continue;
            }
            catch (Exception ex) when (TransientFailures.Reason(ex) is { } reason && stopwatch.Elapsed < RetryPolicy.Budget && !cancellationToken.IsCancellationRequested)
            {
                metrics.TransactionRetried(reason);
                if (TransientFailures.PoisonsPool(ex))
                {
                    // Idle connections may still lead to the old leader; the next open must be fresh.
                    foreach (var dataSource in dataSources.All)
                    {
                        dataSource.Clear();
                    }
                }

                if (TransientFailures.MarksEveryHostOffline(ex))
                {
                    // The PgBouncers are up; what failed was behind them. A really dead one fails its next open
                    // quickly and is skipped again.
                    foreach (var dataSource in dataSources.All)
                    {
                        dataSource.ClearHostStates();
                    }
                }

                var delay = RetryPolicy.DelayBefore(attempt, Random.Shared);
                logger.LogWarning("Transaction failed ({Reason}: {Message}); retry {Attempt} in {Delay} ms", reason, ex.Message, attempt, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    /// <summary>
    /// One attempt of <paramref name="transaction"/>: its value, or (false, default) when a PgBouncer it waits on went silent
    /// (<see cref="SilentHostWatch"/>). The abandoned attempt runs on by itself with a token of its own, so neither the
    /// caller's cancellation nor anything else makes Npgsql wait for a cancel request to the silent PgBouncer; whatever it
    /// ends with is observed and dropped.
    /// </summary>
    private async Task<(bool Completed, T? Value)> AttemptAsync<T>(Func<CancellationToken, Task<T>> transaction, CancellationToken cancellationToken)
    {
        if (silentHosts is not { WatchesAny: true })
        {
            return (true, await transaction(cancellationToken));
        }

        // The caller's cancellation reaches the attempt through a registration that an abandoned attempt drops.
        var own = new CancellationTokenSource();
        var link = cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), own);
        using var attempt = silentHosts.BeginAttempt();
        var running = transaction(own.Token);
        var completed = await Task.WhenAny(running, attempt.Abandoned) == running;
        await link.DisposeAsync();
        if (completed)
        {
            own.Dispose();
            return (true, await running);
        }

        _ = running.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        return (false, default);
    }
}
