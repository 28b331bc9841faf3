using System.Diagnostics;
using IshChat.Cluster.Images;

namespace IshChat.Tests.Operations;

/// <summary><c>eng/cluster.sh</c> as a person runs it: its exit code, what it printed and what it said on the side.</summary>
public static class ClusterScript
{
    public sealed record Outcome(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}{Environment.NewLine}{Output}{Errors}";
    }

    public static async Task<Outcome> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryLayout.Current.Root, "eng", "cluster.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Outcome(process.ExitCode, await output, await errors);
    }
}
