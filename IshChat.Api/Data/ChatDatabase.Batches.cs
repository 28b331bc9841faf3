using IshChat.Api.Auth;
using Npgsql;
using NpgsqlTypes;

namespace IshChat.Api.Data;

/// <summary>
/// Transactions in one round trip (issue 15): the statements of a write or a read go as one <see cref="NpgsqlBatch"/>,
/// one Sync, so behind PgBouncer's transaction pooling they meet one server connection and pay one network round trip.
/// </summary>
public sealed partial class ChatDatabase
{
    /// <summary>
    /// A write in one round trip: <c>BEGIN</c>, the instance scope, the commands <paramref name="addCommands"/> adds, <c>COMMIT</c>
    /// and the commit's WAL position go to the primary as one batch (one Sync, so PgBouncer keeps one server connection for
    /// all of it). <paramref name="read"/> gets the reader on the first added command's result and must leave it on the last
    /// one's. Same guarantees as <see cref="WriteAsync{T}(InstanceContext, Func{NpgsqlConnection, CancellationToken, Task{T}}, CancellationToken)"/>:
    /// scoped per transaction, retried whole on transient errors, the token at or past the commit.
    /// <paramref name="afterCommit"/>'s commands run after the WAL position was read, scoped again, in the same batch (e.g.
    /// to learn whether another write committed before that position); its reader works as <paramref name="read"/>'s.
    /// </summary>
    public Task<WriteResult<T>> WriteBatchAsync<T>(
        InstanceContext instance, Action<NpgsqlBatch> addCommands, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken,
        (Action<NpgsqlBatch> AddCommands, Func<NpgsqlDataReader, T, CancellationToken, Task<T>> Read)? afterCommit = null) =>
        WithRetriesAsync(async ct =>
        {
            await using var connection = await dataSources.For(instance.InstanceType).Primary.OpenConnectionAsync(ct);
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            batch.BatchCommands.Add(ScopeCommand(instance.InstanceId));
            addCommands(batch);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            // After COMMIT, in the same batch: the primary's WAL position is at or past our commit record.
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_current_wal_lsn()"));
            if (afterCommit is { } after)
            {
                // The rest of the batch is one implicit transaction: the scope holds for it.
                batch.BatchCommands.Add(ScopeCommand(instance.InstanceId));
                after.AddCommands(batch);
            }

            try
            {
                await using var reader = await batch.ExecuteReaderAsync(ct);
                await reader.NextResultAsync(ct);
                var value = await read(reader, ct);
                await reader.NextResultAsync(ct);
                await reader.ReadAsync(ct);
                var token = new ConsistencyToken(reader.GetFieldValue<NpgsqlLogSequenceNumber>(0));
                if (afterCommit is { } then)
                {
                    await reader.NextResultAsync(ct);
                    await reader.NextResultAsync(ct);
                    value = await then.Read(reader, value, ct);
                }

                return new WriteResult<T>(value, token);
            }
            catch (PostgresException) when (connection.State == System.Data.ConnectionState.Open)
            {
                // The batch's explicit transaction failed and stays open on the server (and holds PgBouncer's server
                // connection) until it is ended.
                await RollBackQuietlyAsync(connection);
                throw;
            }
        }, cancellationToken);

    /// <summary>
    /// A read in one round trip: the instance scope (with the server's WAL position) and the commands
    /// <paramref name="addCommands"/> adds go to a replica as one batch, one implicit transaction. When the replica has not
    /// replayed <paramref name="token"/> yet, its answer is dropped and the batch runs on the primary. <paramref name="read"/>
    /// as for <see cref="WriteBatchAsync{T}"/>.
    /// </summary>
    public Task<ReadResult<T>> ReadBatchAsync<T>(
        InstanceContext instance, ConsistencyToken? token, Action<NpgsqlBatch> addCommands, Func<NpgsqlDataReader, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken) =>
        RoutedReadAsync(
            dataSources.For(instance.InstanceType), token,
            (source, route, required, ct) => TryReadBatchAsync(source, route, instance.InstanceId, required, addCommands, read, ct), cancellationToken);

    private async Task<ReadResult<T>?> TryReadBatchAsync<T>(
        SpreadDataSource dataSource, ReadRoute route, Guid instanceId, ConsistencyToken? token, Action<NpgsqlBatch> addCommands,
        Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // No BEGIN: the statements up to the batch's one Sync are one implicit transaction, so the scope holds for all of
        // them and the position check and the read meet the same server behind PgBouncer and HAProxy.
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(ScopeCommand(instanceId));
        addCommands(batch);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var position = reader.GetFieldValue<NpgsqlLogSequenceNumber>(2);
        if (!HasReplayed(token, position))
        {
            // The replica's page is dropped unread; checking first would cost the round trip this batch saves.
            return null;
        }

        await reader.NextResultAsync(cancellationToken);
        return new ReadResult<T>(await read(reader, cancellationToken), route, position);
    }

    private static NpgsqlBatchCommand ScopeCommand(Guid instanceId) =>
        new(ScopeAndPositionSql) { Parameters = { new() { Value = instanceId.ToString() } } };

    private static async Task RollBackQuietlyAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection broke too: closing it ends the transaction.
        }
    }
}
