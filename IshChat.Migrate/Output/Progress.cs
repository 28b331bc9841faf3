using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace IshChat.Migrate.Output;

/// <summary>Long steps report how far they are; on a terminal as bars with rate and ETA, otherwise as one line each when done.</summary>
public interface IProgressSteps
{
    IStep Start(string name, double total, string unit);
}

public interface IStep : IDisposable
{
    /// <summary>How much of the total is done so far.</summary>
    void Value(double done);
}

public static class ProgressHost
{
    /// <summary>Bars on an interactive terminal unless JSON was asked for (stdout then carries only the summary).</summary>
    public static async Task<T> RunAsync<T>(bool bars, TextWriter log, Func<IProgressSteps, Task<T>> work)
    {
        if (!bars || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new LineSteps(log));
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(context => work(new BarSteps(context)));
    }

    private sealed class BarSteps(ProgressContext context) : IProgressSteps
    {
        public IStep Start(string name, double total, string unit)
        {
            var task = context.AddTask(name, maxValue: Math.Max(total, 1));
            return new BarStep(task);
        }
    }

    private sealed class BarStep(ProgressTask task) : IStep
    {
        public void Value(double done) => task.Value = Math.Min(done, task.MaxValue);

        public void Dispose()
        {
            task.Value = task.MaxValue;
            task.StopTask();
        }
    }

    private sealed class LineSteps(TextWriter log) : IProgressSteps
    {
        public IStep Start(string name, double total, string unit) => new LineStep(log, name, unit);
    }

    private sealed class LineStep(TextWriter log, string name, string unit) : IStep
    {
        private readonly Stopwatch stopwatch = Stopwatch.StartNew();
        private double done;

        public void Value(double value) => done = value;

        public void Dispose()
        {
            var seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 0.001);
            log.WriteLine($"{name}: {done:N0} {unit} in {seconds:F2} s ({done / seconds:N0} {unit}/s)");
        }
    }

    /// <summary>Rows per second, which Spectre's transfer column would print as bytes.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is { } speed ? $"[blue]{speed:N0}/s[/]" : "[grey]-[/]");
    }
}
