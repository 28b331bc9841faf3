using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace IshChat.Cluster.Docker;

/// <summary>
/// The one way this project talks to the container runtime outside Testcontainers: image builds, fault
/// injection, the dead-leader key releaser, monitoring checks and tests all call the docker CLI through
/// here, which speaks to the same engine as Testcontainers and Aspire. Every call has a time-out (builds
/// ask for none), is logged at debug level with its duration, and names the command when it fails.
/// </summary>
public static class DockerCli
{
    /// <summary>Long enough for <c>docker stop</c>'s 10 s grace period on a loaded machine; short enough that a hung engine is noticed.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <c>docker <paramref name="arguments"/></c> and returns its output, throwing when it fails.</summary>
    public static async Task<string> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(arguments, cancellationToken: cancellationToken)).EnsureSucceeded();

    /// <summary>
    /// Runs <c>docker <paramref name="arguments"/></c> and returns its exit code and output whatever they are.
    /// <paramref name="onLine"/> sees each line as it arrives (a build's progress); after <paramref name="timeout"/>
    /// (default <see cref="DefaultTimeout"/>; <see cref="Timeout.InfiniteTimeSpan"/> for none) the process is killed
    /// and a <see cref="DockerCommandException"/> thrown.
    /// </summary>
    public static Task<DockerResult> ExecuteAsync(
        IEnumerable<string> arguments, Action<string>? onLine = null, TimeSpan? timeout = null, ILogger? logger = null,
        CancellationToken cancellationToken = default) =>
        ExecuteAsync(arguments, environment: null, onLine, timeout, logger, cancellationToken);

    /// <summary>
    /// <see cref="ExecuteAsync(IEnumerable{string}, Action{string}?, TimeSpan?, ILogger?, CancellationToken)"/> with
    /// <paramref name="environment"/> added to the docker client's own environment: <c>docker run -e NAME</c> (no value)
    /// takes the value from there, so a secret handed to a container never appears on a command line.
    /// </summary>
    public static async Task<DockerResult> ExecuteAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, Action<string>? onLine = null, TimeSpan? timeout = null,
        ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        var limit = timeout ?? DefaultTimeout;
        using var process = Start(list, environment);
        var output = new List<string>();
        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
            }

            onLine?.Invoke(line);
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (limit != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(limit);
        }

        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new DockerCommandException($"docker {string.Join(' ', list)} did not finish within {limit.TotalSeconds:F0} s.");
        }

        // WaitForExitAsync returns once the process exits; the last lines may still be in flight.
        process.WaitForExit();
        logger?.LogDebug("docker {Command} → {ExitCode} in {Milliseconds} ms", list.FirstOrDefault(), process.ExitCode, stopwatch.ElapsedMilliseconds);
        lock (output)
        {
            return new DockerResult(list, process.ExitCode, [.. output]);
        }
    }

    /// <summary>
    /// The lines of a command that runs until cancelled, such as <c>docker events</c>, as they arrive.
    /// Ends when the process exits; the caller decides whether to follow again (and from when).
    /// </summary>
    public static async IAsyncEnumerable<string> StreamAsync(
        IEnumerable<string> arguments, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        using var process = Start(list);
        process.BeginErrorReadLine();
        await using var _ = cancellationToken.Register(() => KillQuietly(process));
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            yield return line;
        }
    }

    /// <summary>
    /// Starts a stopped container. Its published ports get new host ports from the engine's dynamic range, which is
    /// the kernel's ephemeral range too: a client's outgoing connection can hold the port the engine picks, and the
    /// start fails with "address already in use". The engine picks another on the next try, so a few are made.
    /// </summary>
    public static async Task StartAsync(string container, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await ExecuteAsync(["start", container], cancellationToken: cancellationToken);
            if (result.Succeeded || attempt == 5 || !result.Text.Contains("address already in use", StringComparison.Ordinal))
            {
                result.EnsureSucceeded();
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken);
        }
    }

    public static async Task<bool> ImageExistsAsync(string reference, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(["image", "inspect", "--format", "{{.Id}}", reference], cancellationToken: cancellationToken)).Succeeded;

    /// <summary>True only when the runtime itself says the container is not running and not merely paused.</summary>
    public static async Task<bool> IsConfirmedDeadAsync(string container, CancellationToken cancellationToken = default)
    {
        var result = await ExecuteAsync(
            ["inspect", "--format", "{{.State.Running}} {{.State.Paused}} {{.State.Restarting}}", container], cancellationToken: cancellationToken);
        if (!result.Succeeded)
        {
            // Removed altogether: certainly not serving.
            return result.Output.Any(l => l.Contains("No such", StringComparison.OrdinalIgnoreCase));
        }

        return result.Output.Count > 0 && result.Output[0].Trim() == "false false false";
    }

    /// <summary>
    /// The address a container's <c>host-gateway</c> names: the default bridge network's gateway (Docker's default
    /// <c>host-gateway-ip</c>), or null when the engine does not say. A host process bound to it alone is reachable from
    /// containers and not from the machine's own network.
    /// </summary>
    public static async Task<string?> HostGatewayAddressAsync(CancellationToken cancellationToken = default)
    {
        var result = await ExecuteAsync(["network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"], cancellationToken: cancellationToken);
        return result.Succeeded
            ? result.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(a => System.Net.IPAddress.TryParse(a, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            : null;
    }

    /// <summary>The names of the networks <paramref name="container"/> is attached to.</summary>
    public static async Task<IReadOnlyList<string>> NetworksOfAsync(string container, CancellationToken cancellationToken = default) =>
        (await RunAsync(["inspect", "--format", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", container], cancellationToken))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static Process Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo("docker")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        try
        {
            return Process.Start(startInfo) ?? throw new DockerCommandException($"docker {string.Join(' ', arguments)} did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new DockerCommandException("The docker client was not found. Run eng/setup.sh first.", ex);
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
