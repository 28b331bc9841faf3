using System.Net;
using System.Net.Sockets;
using IshChat.Api.Data;
using IshChat.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace IshChat.Tests.Api;

/// <summary>
/// The watch over the API's PgBouncers, against real sockets on loopback: a listener that answers PostgreSQL's SSLRequest
/// as PgBouncer does, one whose process is "frozen" (the kernel accepts, nobody answers), and a closed port.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SilentHostWatchTests
{
    [Fact]
    public async Task AProbeIsAnsweredByAListeningPostgresServerAndNotByAFrozenOrAClosedOne()
    {
        await using var answering = FakePgBouncer.Start();
        await using var frozen = FakePgBouncer.Start();
        frozen.Frozen = true;
        var closed = ClosedPort();

        Assert.Null(await SilentHostWatch.ProbeAsync(answering.Endpoint, CancellationToken.None));
        Assert.StartsWith("no answer within", await SilentHostWatch.ProbeAsync(frozen.Endpoint, CancellationToken.None));
        Assert.Equal(nameof(SocketError.ConnectionRefused), await SilentHostWatch.ProbeAsync(closed, CancellationToken.None));
    }

    [Fact]
    public async Task AFrozenHostIsSilentAfterTwoMissedProbesItsAttemptsAreAbandonedAndOneAnswerMakesItHeardAgain()
    {
        // Given two PgBouncers watched, and a transaction attempt on each
        await using var first = FakePgBouncer.Start();
        await using var second = FakePgBouncer.Start();
        var watch = new SilentHostWatch(NullLogger<SilentHostWatch>.Instance);
        var silenced = 0;
        watch.Watch(first.Endpoint, () => Interlocked.Increment(ref silenced));
        watch.Watch(second.Endpoint, () => { });
        await watch.StartAsync(CancellationToken.None);
        try
        {
            using var onFirst = watch.BeginAttempt();
            onFirst.Use(first.Endpoint);
            using var onSecond = watch.BeginAttempt();
            onSecond.Use(second.Endpoint);
            await Task.Delay(SilentHostWatch.ProbeInterval * 3);
            Assert.False(watch.IsSilent(first.Endpoint));

            // When the first freezes
            first.Frozen = true;

            // Then it is silent within its misses (generous bound), its idle connections are dropped, its attempt is
            // abandoned, and the other's attempt and the other host are left alone
            await onFirst.Abandoned.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(watch.IsSilent(first.Endpoint));
            Assert.Equal(1, silenced);
            Assert.False(onSecond.Abandoned.IsCompleted);
            Assert.False(watch.IsSilent(second.Endpoint));

            // And once it answers again it is heard again
            first.Frozen = false;
            await Eventually.GetAsync(_ => Task.FromResult(watch.IsSilent(first.Endpoint)), silent => !silent, TimeSpan.FromSeconds(20), "the thawed host heard again");
        }
        finally
        {
            await watch.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("Host=pgbouncer-0:6432,pgbouncer-1:6433;Username=a", "pgbouncer-0:6432|pgbouncer-1:6433")]
    [InlineData("Host=localhost;Port=5544;Username=a", "localhost:5544")]
    [InlineData("Host=a:1, b;Port=7", "a:1|b:7")]
    [InlineData("Host=[::1]:6432,[fe80::1];Port=5432", "[::1]:6432|[fe80::1]:5432")]
    public void AMultiHostConnectionStringNamesEachHostWithItsPort(string connectionString, string expected)
    {
        Assert.Equal(expected, string.Join('|', SpreadDataSource.Endpoints(connectionString)));
    }

    private static HostEndpoint ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new HostEndpoint("127.0.0.1", port);
    }

    /// <summary>Answers each connection's SSLRequest with 'N' as PgBouncer without TLS does, unless <see cref="Frozen"/>.</summary>
    private sealed class FakePgBouncer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly List<TcpClient> held = [];
        private Task accepting = Task.CompletedTask;

        public volatile bool Frozen;

        public HostEndpoint Endpoint => new("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);

        public static FakePgBouncer Start()
        {
            var server = new FakePgBouncer();
            server.listener.Start();
            server.accepting = server.AcceptAsync();
            return server;
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptTcpClientAsync(stop.Token);
                    lock (held)
                    {
                        held.Add(client);
                    }

                    if (!Frozen)
                    {
                        var request = new byte[8];
                        await client.GetStream().ReadExactlyAsync(request, stop.Token);
                        await client.GetStream().WriteAsync("N"u8.ToArray(), stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
            {
                // Stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting;
            lock (held)
            {
                held.ForEach(c => c.Dispose());
            }

            stop.Dispose();
        }
    }
}
