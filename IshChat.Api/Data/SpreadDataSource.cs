using System.Runtime.ExceptionServices;
using Npgsql;

namespace IshChat.Api.Data;

/// <summary>
/// Connections spread round-robin over the hosts of a multi-host connection string (every PgBouncer), one Npgsql data
/// source per host, skipping the hosts <see cref="SilentHostWatch"/> finds silent. Npgsql's own multi-host data source
/// spreads too (Load Balance Hosts), but only learns that a host is gone when a connection to it breaks, and a frozen or
/// cut-off PgBouncer breaks none: it would keep handing out idle connections to it. An open that fails on one host
/// (refused, timed out) goes on to the next at once, as Npgsql's does.
/// </summary>
public sealed class SpreadDataSource
{
    private readonly HostDataSource[] hosts;
    private readonly SilentHostWatch? watch;
    private int next = -1;

    private SpreadDataSource(HostDataSource[] hosts, SilentHostWatch? watch)
    {
        this.hosts = hosts;
        this.watch = watch;
    }

    /// <summary>The hosts, in the connection string's order.</summary>
    public IReadOnlyList<HostDataSource> Hosts => hosts;

    /// <summary>
    /// A data source per host of <paramref name="connectionString"/>, each configured by <paramref name="configure"/>; with more
    /// than one host, each is watched by <paramref name="watch"/>, which drops its idle connections when it goes silent.
    /// </summary>
    public static SpreadDataSource Create(string connectionString, Action<NpgsqlDataSourceBuilder> configure, ILoggerFactory loggerFactory, SilentHostWatch watch)
    {
        var endpoints = Endpoints(connectionString);
        var hosts = endpoints.Select(endpoint =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.ConnectionStringBuilder.Host = endpoint.Host;
            builder.ConnectionStringBuilder.Port = endpoint.Port;
            // One host each: Npgsql's balancing and host states have nothing left to do.
            builder.ConnectionStringBuilder.LoadBalanceHosts = false;
            builder.UseLoggerFactory(loggerFactory);
            configure(builder);
            return new HostDataSource(endpoint, builder.Build());
        }).ToArray();

        if (hosts.Length < 2)
        {
            // Nothing to move to: a silent single host is waited for, as before.
            return new SpreadDataSource(hosts, watch: null);
        }

        foreach (var host in hosts)
        {
            watch.Watch(host.Endpoint, host.DataSource.Clear);
        }

        return new SpreadDataSource(hosts, watch);
    }

    /// <summary>One data source used as it is (the admin role's HAProxy list, a single server): nothing watched.</summary>
    public static SpreadDataSource Of(NpgsqlDataSource dataSource) =>
        new([new HostDataSource(new HostEndpoint("(as configured)", 0), dataSource)], watch: null);

    /// <summary>
    /// Npgsql's multi-host form, <c>host1:port1,host2:port2</c> (a host without a port takes the connection string's
    /// <c>Port</c>); an IPv6 address in brackets keeps its colons.
    /// </summary>
    public static IReadOnlyList<HostEndpoint> Endpoints(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("The connection string names no Host.", nameof(connectionString));
        }

        return builder.Host.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(entry =>
        {
            var colon = entry.LastIndexOf(':');
            var bracket = entry.LastIndexOf(']');
            return colon > bracket && int.TryParse(entry[(colon + 1)..], out var port)
                ? new HostEndpoint(entry[..colon], port)
                : new HostEndpoint(entry, builder.Port);
        }).ToList();
    }

    /// <summary>
    /// A connection to the next host in turn that is not silent (all of them, if every one is), registered with the
    /// <see cref="SilentHostWatch.CurrentAttempt"/>. When an open fails, the other hosts are tried before the error is thrown.
    /// </summary>
    public async ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        // One open per transaction attempt: a plain loop over the hosts from the next one in turn, nothing allocated.
        var start = (uint)Interlocked.Increment(ref next);
        var skipSilent = watch is not null && AnyHeard(watch);
        ExceptionDispatchInfo? lastFailure = null;
        for (var i = 0u; i < (uint)hosts.Length; i++)
        {
            var host = hosts[(int)((start + i) % (uint)hosts.Length)];
            if (skipSilent && watch!.IsSilent(host.Endpoint))
            {
                continue;
            }

            if (watch is not null)
            {
                SilentHostWatch.CurrentAttempt?.Use(host.Endpoint);
            }

            try
            {
                return await host.DataSource.OpenConnectionAsync(cancellationToken);
            }
            catch (NpgsqlException ex) when (ex.IsTransient && !cancellationToken.IsCancellationRequested)
            {
                // Refused or timed out: the next PgBouncer, now, rather than after the retry's back-off.
                lastFailure = ExceptionDispatchInfo.Capture(ex);
            }
        }

        lastFailure?.Throw();
        // Every host fell silent between the check and the loop: try the first in turn anyway, as when all are silent.
        var first = hosts[(int)(start % (uint)hosts.Length)];
        SilentHostWatch.CurrentAttempt?.Use(first.Endpoint);
        return await first.DataSource.OpenConnectionAsync(cancellationToken);
    }

    private bool AnyHeard(SilentHostWatch silence)
    {
        foreach (var host in hosts)
        {
            if (!silence.IsSilent(host.Endpoint))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Drops every host's idle connections (after a failover they may lead to the old leader).</summary>
    public void Clear()
    {
        foreach (var host in hosts)
        {
            host.DataSource.Clear();
        }
    }

    /// <summary>Forgets the hosts Npgsql marked offline, where a data source lists several itself (the admin role's HAProxy list).</summary>
    public void ClearHostStates()
    {
        foreach (var host in hosts)
        {
            (host.DataSource as NpgsqlMultiHostDataSource)?.ClearDatabaseStates();
        }
    }
}

/// <summary>One host's own Npgsql data source.</summary>
public sealed record HostDataSource(HostEndpoint Endpoint, NpgsqlDataSource DataSource);
