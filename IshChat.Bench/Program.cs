using IshChat.Bench;
using IshChat.Bench.Stacks;
using Microsoft.Extensions.Logging;

// Load generator for the chat API: N clients, each with its own device and session, post a
// message and read the newest page back (with the consistency token, as a real client would).
//   against a running stack:  --url http://localhost:5080 --admin-key KEY --clients 16 --seconds 30
//   stacks it starts itself:  --self-hosted cluster,leader,single --clients 16 --seconds 30   (bench/api.sh)
//   a server's TLS files for a shell bench:  tls-archive --ca FILE --image patroni --name pg-0   (bench/backup.sh)
if (args is [TlsArchive.Command, ..])
{
    return TlsArchive.Run(args[1..]);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

if (options.Url is { } url)
{
    using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
    var results = await new ChatLoad(http, options, options.AdminKey!).RunAsync();
    Console.WriteLine(results.Report(options));
    return 0;
}

if (options.Profile == ApiProfile.Perf)
{
    foreach (var (name, value) in ApiProfile.PerfEnvironment)
    {
        Environment.SetEnvironmentVariable(name, value);
    }
}

using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
var logger = loggerFactory.CreateLogger("bench");
var reports = new List<string>();
foreach (var name in options.SelfHosted)
{
    Console.WriteLine($"[bench] starting the '{name}' stack…");
    await using var stack = name switch
    {
        "cluster" => await BenchStack.StartClusterAsync(logger, options, direct: false),
        "leader" => await BenchStack.StartClusterAsync(logger, options, direct: true),
        _ => await BenchStack.StartSinglePostgresAsync(logger, options),
    };
    Console.WriteLine($"[bench] {stack.Description}; API at {stack.ApiUrl}; {options.Warmup.TotalSeconds:F0} s warm-up, then {options.Duration.TotalSeconds:F0} s measured");
    using var http = new HttpClient { BaseAddress = stack.ApiUrl, Timeout = TimeSpan.FromSeconds(30) };
    if (options.Isolation)
    {
        reports.Add(await IsolationRun.RunAsync(stack, http, options));
        Console.WriteLine(reports[^1]);
        continue;
    }

    using var lag = stack.LeaderMonitorConnection is { } leader ? new ReplicationLagSampler(leader) : null;
    // The HTTP connections to the API and, in a many-client run, PgBouncer's client and server connections.
    using var connections = new ConnectionSampler(stack.ApiUrl.Port, options.PgBouncerClients > 0 ? stack.PgBouncer : null);
    using var jit = new TieredJitSampler(() => stack.ApiProcessId);
    List<IMeasurementWindow> windows = [new ApiCpuMeter(() => stack.ApiCpuTime), jit];
    if (lag is not null)
    {
        windows.Add(lag);
    }

    windows.Add(connections);

    if (options.Profile is { } tool)
    {
        windows.Add(new ApiProfile(() => stack.ApiProcessId, tool, name, options.Duration));
    }

    await using var archive = options.Backups && stack.Cluster is { } cluster ? ArchiveSampler.Start(cluster) : null;
    var results = await new ChatLoad(http, options, stack.AdminKey).RunAsync([.. windows]);
    var report = results.Report(options with { Label = stack.Description });
    if (archive is not null)
    {
        report += Environment.NewLine + await archive.FinishAsync(TimeSpan.FromMinutes(5));
    }

    if (options.PgBouncerClients > 0 && stack.PgBouncer is not null && stack.Cluster is { } pooled)
    {
        Console.WriteLine($"[bench] {options.PgBouncerClients} direct PgBouncer clients (pgbench)…");
        report += await PgBouncerClientsRun.RunAsync(pooled, options) + Environment.NewLine;
    }

    Console.WriteLine(report);
    reports.Add(report);
}

if (reports.Count > 1)
{
    Console.WriteLine("[bench] summary");
    reports.ForEach(Console.WriteLine);
}

return 0;
