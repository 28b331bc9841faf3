using System.Diagnostics;
using System.Globalization;

namespace IshChat.Bench;

/// <summary>
/// A CPU profile of the API process over the measured window (<c>--profile</c>), written under TestResults/profile/ with
/// a text ranking beside it. <c>perf</c> (the default where it is installed and may trace) samples what is on a CPU, by
/// thread and by symbol: what the API spends its CPU on. <c>dotnet-trace</c> (<c>dotnet tool install -g dotnet-trace</c>)
/// samples every managed thread, running or waiting: where the wall-clock time goes, waits included.
/// </summary>
public sealed class ApiProfile(Func<int> processId, string tool, string label, TimeSpan duration) : IMeasurementWindow
{
    public const string Perf = "perf";
    public const string DotnetTrace = "dotnet-trace";

    /// <summary>
    /// Set in the bench's environment before it starts the API (which inherits it) when perf profiles: the JIT writes its
    /// symbols to /tmp/perf-PID.map, and without W^X the code it maps keeps its address, so perf can name it.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> PerfEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_PerfMapEnabled"] = "1",
        ["DOTNET_EnableWriteXorExecute"] = "0",
    };

    private Process? collector;
    private string output = "";

    public static string DefaultTool => File.Exists("/usr/bin/perf") || File.Exists("/usr/local/bin/perf") ? Perf : DotnetTrace;

    public void Start()
    {
        var folder = Path.Combine(RepositoryLayout.Current.Root, "TestResults", "profile");
        Directory.CreateDirectory(folder);
        var seconds = ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var pid = processId().ToString(CultureInfo.InvariantCulture);
        output = Path.Combine(folder, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{label}");
        collector = tool == Perf
            ? Run("perf", ["record", "-F", "499", "-g", "-p", pid, "-o", output + ".perf.data", "--", "sleep", seconds])
            : Run(DotnetTraceCommand, ["collect", "-p", pid, "--profile", "dotnet-sampled-thread-time", "--duration", $"00:00:00:{seconds}", "-o", output + ".nettrace"]);
    }

    public async Task<string> StopAsync(int requests)
    {
        if (collector is null)
        {
            return "profile: not started";
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await collector.WaitForExitAsync(timeout.Token);
        var ranking = tool == Perf
            ? await ReportAsync("perf", ["report", "-i", output + ".perf.data", "--no-children", "--sort", "comm", "--stdio", "-g", "none"], 20)
              + await ReportAsync("perf", ["report", "-i", output + ".perf.data", "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none"], 60)
            : await ReportAsync(DotnetTraceCommand, ["report", output + ".nettrace", "topN", "-n", "40"], 60)
              + await ReportAsync(DotnetTraceCommand, ["report", output + ".nettrace", "topN", "-n", "40", "--inclusive"], 60);
        await File.WriteAllTextAsync(output + ".txt", ranking);
        return $"profile ({tool}, API process, the measured window; its CPU figure above includes the profiler's cost): {output}.txt";
    }

    private static string DotnetTraceCommand
    {
        get
        {
            var installed = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", DotnetTrace);
            return File.Exists(installed) ? installed : DotnetTrace;
        }
    }

    private static Process Run(string command, string[] arguments)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        // Drained, so a chatty tool never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The tool's report without its comment and blank lines, at most <paramref name="lines"/> lines.</summary>
    private static async Task<string> ReportAsync(string command, string[] arguments, int lines)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var text = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var kept = (await text).Split('\n').Where(l => l.Trim().Length > 0 && !l.StartsWith('#')).Take(lines);
        return $"$ {command} {string.Join(' ', arguments)}\n{string.Join('\n', kept)}\n\n";
    }
}
