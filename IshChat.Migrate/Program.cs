using IshChat.Migrate;
using IshChat.Migrate.Cli;
using IshChat.Migrate.Target;

// Ctrl+C stops at the next safe point: the open transaction rolls back, the checkpoint stays where it was.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    var options = Options.Parse(args);
    return await Commands.RunAsync(options, cancel.Token);
}
catch (MigrationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return ex.ExitCode;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("Interrupted; run the same command again to resume from the last checkpoint.");
    return 130;
}
catch (Exception ex) when (ChatTarget.Explain(ex) is { } explained)
{
    Console.Error.WriteLine(explained.Message);
    return explained.ExitCode;
}
