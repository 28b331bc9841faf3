using IshChat.Migrate.Cli;

// Ctrl+C stops at the next safe point: the open transaction rolls back, the checkpoint stays where it was.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return await CommandLine.RunAsync(args, Console.Error, cancel.Token);
