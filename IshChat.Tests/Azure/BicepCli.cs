using System.Diagnostics;
using System.Reflection;

namespace IshChat.Tests.Azure;

/// <summary>
/// The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package: its build props set BicepPath,
/// which the test project bakes into this assembly's metadata, so restore is the only install step.
/// </summary>
internal static class BicepCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    private static readonly Lazy<string> executable = new(FindExecutable);

    public static async Task<Result> RunAsync(IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(executable.Value)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Bicep is a .NET program: no telemetry, no first-run banner in the diagnostics we assert on.
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable.Value}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {timeout}.");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string FindExecutable()
    {
        var configured = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepPath")?.Value;
        if (string.IsNullOrEmpty(configured))
        {
            throw new InvalidOperationException("BicepPath is not in the test assembly's metadata: is Azure.Bicep.CommandLine.linux-x64 referenced?");
        }

        // The package's props join folder and name with a backslash.
        var path = Path.GetFullPath(configured.Replace('\\', Path.DirectorySeparatorChar));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The Bicep CLI is missing; run dotnet restore.", path);
        }

        // NuGet does not always keep the executable bit when it extracts a package.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if (!mode.HasFlag(UnixFileMode.UserExecute))
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }

        return path;
    }
}
