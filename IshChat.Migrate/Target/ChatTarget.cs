using System.Net.Sockets;
using Npgsql;

namespace IshChat.Migrate.Target;

/// <summary>
/// The PostgreSQL side: one real session to the leader (HAProxy's read-write port, not
/// PgBouncer, so COPY and a long transaction have a server connection of their own), every
/// unit of work one transaction scoped to the instance, retried whole after a failover.
/// </summary>
public sealed class ChatTarget(string connectionString, TextWriter log) : IAsyncDisposable
{
    /// <summary>Long enough for Patroni to elect a new leader (ttl 20 s) and HAProxy to route to it, twice.</summary>
    private static readonly TimeSpan retryFor = TimeSpan.FromSeconds(90);

    private readonly string connectionString = Complete(connectionString);

    private NpgsqlConnection? connection;

    public int Retries { get; private set; }

    public async Task<T> InScopeAsync<T>(Guid? instanceId, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + retryFor;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                // A connection left idle while other sessions worked may have lost its server (a failover).
                if (connection is { State: not System.Data.ConnectionState.Open })
                {
                    await DropConnectionAsync();
                }

                connection ??= await OpenAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                if (instanceId is { } id)
                {
                    await using var scope = new NpgsqlCommand("SELECT set_config('ishchat.instance_id', $1, true)", connection) { Parameters = { new() { Value = id.ToString() } } };
                    await scope.ExecuteNonQueryAsync(cancellationToken);
                }

                var result = await work(connection, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (Exception ex) when (IsRetryable(ex) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                // Whatever the transaction did is gone (or, if COMMIT's answer was lost, it is in the
                // checkpoint the work reads first): redoing the whole unit is always correct.
                Retries++;
                log.WriteLine($"PostgreSQL unavailable ({Describe(ex)}); retrying in {delay.TotalSeconds:F1} s");
                await DropConnectionAsync();
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 3000));
            }
            catch (Exception ex) when (Explain(ex) is { } explained)
            {
                await DropConnectionAsync();
                throw explained;
            }
        }
    }

    private static string Complete(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString)
            {
                // COPY of a chunk and verify's aggregates may take longer than Npgsql's 30 s default.
                CommandTimeout = 0,
                KeepAlive = 10,
                Pooling = false,
            };
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                throw new ArgumentException("no Host");
            }

            return builder.ConnectionString;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            throw new MigrationException(ExitCodes.BadInput,
                $"--connection is not a usable Npgsql connection string ({ex.Message}); e.g. 'Host=localhost;Port=5000;Database=ishchat;Username=ishchat_admin'.");
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var opened = new NpgsqlConnection(connectionString);
        await opened.OpenAsync(cancellationToken);
        return opened;
    }

    private async Task DropConnectionAsync()
    {
        if (connection is not null)
        {
            await ((Task)connection.DisposeAsync().AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            connection = null;
        }
    }

    /// <summary>A lost or read-only leader, a restarting server, a serialisation conflict: a new attempt may work.</summary>
    private static bool IsRetryable(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState is "25006" or "57P01" or "57P02" or "57P03" or "40001" or "40P01" or "08006" or "08003" or "08001" or "53300",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException || npgsql.InnerException is TimeoutException,
        IOException or SocketException => true,
        _ => false,
    };

    /// <summary>Failures that retrying won't fix, told so that someone can act on them.</summary>
    public static MigrationException? Explain(Exception ex) => ex switch
    {
        MigrationException => null,
        PostgresException { SqlState: "28P01" or "28000" } pg => new MigrationException(ExitCodes.Database,
            $"PostgreSQL refused the login ({pg.MessageText}). Check the user and password in --connection (or PGPASSWORD).", ex),
        // 53100 is also what a full /dev/shm raises (a parallel query's shared memory), which freeing the data volume won't fix.
        PostgresException { SqlState: "53100" } pg when pg.MessageText.Contains("shared memory", StringComparison.Ordinal) => new MigrationException(ExitCodes.DiskFull,
            $"PostgreSQL's shared memory (/dev/shm on the leader) is full ({pg.MessageText}). Give the leader's container more (--shm-size), or run again when fewer queries run in parallel.", ex),
        PostgresException { SqlState: "53100" } pg => new MigrationException(ExitCodes.DiskFull,
            $"PostgreSQL's disk is full ({pg.MessageText}). Free space on the leader's data volume, then run import again: it resumes from its checkpoint.", ex),
        PostgresException { SqlState: "42P01" or "3F000" } pg => new MigrationException(ExitCodes.Database,
            $"The chat schema is missing or older than this tool ({pg.MessageText}). Run IshChat.MigrationService first (it applies 0002_legacy_import.sql).", ex),
        PostgresException { SqlState: "42501" } pg => new MigrationException(ExitCodes.Database,
            $"Permission denied ({pg.MessageText}). Connect as ishchat_admin (the instance directory and, scoped by the tool, the tenant data); no other role is needed.", ex),
        PostgresException { SqlState: "3D000" } pg => new MigrationException(ExitCodes.Database, $"No such database ({pg.MessageText}).", ex),
        NpgsqlException or SocketException or TimeoutException => new MigrationException(ExitCodes.Database,
            $"PostgreSQL is unreachable or kept failing for {retryFor.TotalSeconds:F0} s: {Describe(ex)}", ex),
        IOException io when io.HResult is 28 or unchecked((int)0x80070070) => new MigrationException(ExitCodes.DiskFull, $"The local disk is full: {io.Message}", ex),
        _ => null,
    };

    private static string Describe(Exception ex) => ex is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : ex.InnerException?.Message ?? ex.Message;

    public async ValueTask DisposeAsync() => await DropConnectionAsync();
}
