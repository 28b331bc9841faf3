using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace IshChat.Bench.Stacks;

/// <summary>
/// One of our own .NET services (the API, the migration service) run from its Release build as a child
/// process, configured only through environment variables, the way the AppHost configures it.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> lastLines = [];

    private ServiceProcess(Process process) => this.process = process;

    public int Id => process.Id;

    /// <summary>CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.HasExited ? TimeSpan.Zero : process.TotalProcessorTime;
        }
    }

    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(RepositoryLayout.Current.Root, project, "bin", "Release", "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build it first (bench/api.sh does: dotnet build -c Release).");
        }

        var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_ENVIRONMENT"] = start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var service = new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {dll}."));
        service.process.OutputDataReceived += (_, e) => service.Remember(e.Data);
        service.process.ErrorDataReceived += (_, e) => service.Remember(e.Data);
        service.process.BeginOutputReadLine();
        service.process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits for a run-to-completion service (the migrations) and fails with its last output if it failed.</summary>
    public async Task WaitForSuccessAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"exited with {process.ExitCode}:\n{Tail()}");
        }
    }

    /// <summary>Waits until <paramref name="url"/> answers 200 (the API's /health).</summary>
    public async Task WaitForHealthyAsync(Uri url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"exited with {process.ExitCode} before it was healthy:\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{url} did not answer 200 within {timeout.TotalSeconds:F0} s:\n{Tail()}");
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (lastLines)
        {
            lastLines.Add(line);
            if (lastLines.Count > 40)
            {
                lastLines.RemoveAt(0);
            }
        }
    }

    private string Tail()
    {
        lock (lastLines)
        {
            return string.Join('\n', lastLines);
        }
    }
}
