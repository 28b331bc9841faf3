using IshChat.Migrate.Target;

namespace IshChat.Migrate.Cli;

/// <summary>
/// The whole command line, arguments to exit status: the command's summary on standard output, and for a failure
/// someone can act on one sentence on <c>error</c> saying what happened and what to do, never a stack trace.
/// Tests call it to see exactly what a user sees.
/// </summary>
public static class CommandLine
{
    public const int Interrupted = 130;

    public static async Task<int> RunAsync(string[] args, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await Commands.RunAsync(Options.Parse(args), cancellationToken);
        }
        catch (MigrationException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("Interrupted; run the same command again to resume from the last checkpoint.");
            return Interrupted;
        }
        catch (Exception ex) when (ChatTarget.Explain(ex) is { } explained)
        {
            await error.WriteLineAsync(explained.Message);
            return explained.ExitCode;
        }
    }
}
