using Npgsql;

namespace IshChat.Api.Data;

/// <summary>Which database errors are worth retrying a whole transaction for, and which also poison pooled connections.</summary>
public static class TransientFailures
{
    /// <summary>cannot execute … in a read-only transaction: we reached the old leader after a failover.</summary>
    public const string ReadOnlyTransaction = "25006";

    /// <summary>terminating connection due to administrator command: Patroni stopped or demoted the server.</summary>
    public const string AdminShutdown = "57P01";

    /// <summary>A short reason for the retry metric (bounded set), or null when the error is the caller's to see.</summary>
    public static string? Reason(Exception exception) => exception switch
    {
        PostgresException { SqlState: ReadOnlyTransaction } => "read_only",
        PostgresException { SqlState: AdminShutdown } => "admin_shutdown",
        PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected } => "conflict",
        // PgBouncer's own words when its server connection dies mid-transaction ("server conn crashed?").
        PostgresException { SqlState: PostgresErrorCodes.ProtocolViolation or PostgresErrorCodes.ConnectionFailure } => "connection",
        NpgsqlException { IsTransient: true } => "transient",
        _ when MarksEveryHostOffline(exception) => "no_host",
        _ => null,
    };

    /// <summary>
    /// Npgsql's multi-host data source (the API lists every PgBouncer) marks a host offline for Host Recheck Seconds
    /// when a connection to it breaks, even when what broke was the database behind PgBouncer during a failover
    /// ("server conn crashed?"). With every PgBouncer marked so, opens fail at once with "No suitable host was found"
    /// although all of them are up: the caller clears those marks and retries.
    /// </summary>
    public static bool MarksEveryHostOffline(Exception exception) =>
        exception is NpgsqlException { InnerException: null } npgsql
        && npgsql.GetType() == typeof(NpgsqlException)
        && npgsql.Message.StartsWith("No suitable host", StringComparison.Ordinal);

    /// <summary>After these, idle pooled connections point at a server that is gone or no longer leads.</summary>
    public static bool PoisonsPool(Exception exception) =>
        exception is PostgresException { SqlState: ReadOnlyTransaction or AdminShutdown }
        || exception is NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException };
}
