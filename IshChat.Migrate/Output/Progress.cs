using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace IshChat.Migrate.Output;

/// <summary>
/// Long steps report how far they are: on a terminal as bars with rate and ETA; otherwise (a log, the Aspire
/// dashboard, a pipe) as a line every few seconds with percentage, rate and ETA, and one when done.
/// </summary>
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
    public static async Task<T> RunAsync<T>(bool bars, TextWriter log, Func<IProgressSteps, Task<T>> work, TimeSpan? lineInterval = null)
    {
        if (!bars || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new LineSteps(log, lineInterval ?? LineInterval));
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

    private sealed class LineSteps(TextWriter log, TimeSpan interval) : IProgressSteps
    {
        public IStep Start(string name, double total, string unit) => new LineStep(log, name, total, unit, interval);
    }

    /// <summary>How often a step without a terminal says how far it is: often enough to see it move, rarely enough for a log.</summary>
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    /// <summary>A step told as lines; <see cref="Value"/> may come from several writers at once.</summary>
    private sealed class LineStep(TextWriter log, string name, double total, string unit, TimeSpan interval) : IStep
    {
        private readonly Stopwatch stopwatch = Stopwatch.StartNew();
        private readonly Lock gate = new();
        private TimeSpan lastLine;
        private double done;

        public void Value(double value)
        {
            lock (gate)
            {
                done = value;
                var now = stopwatch.Elapsed;
                if (now - lastLine < interval || total <= 0)
                {
                    return;
                }

                lastLine = now;
                var rate = done / Math.Max(now.TotalSeconds, 0.001);
                var eta = rate > 0 ? TimeSpan.FromSeconds(Math.Max(total - done, 0) / rate) : (TimeSpan?)null;
                var etaText = eta is { } e ? e.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "-";
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {done:N0} of {total:N0} {unit} ({Math.Min(done / total, 1) * 100:F0}%), {rate:N0} {unit}/s, ETA {etaText}"));
            }
        }

        public void Dispose()
        {
            lock (gate)
            {
                var seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 0.001);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {done:N0} {unit} in {seconds:F2} s ({done / seconds:N0} {unit}/s)"));
            }
        }
    }

    /// <summary>Rows per second, which Spectre's transfer column would print as bytes.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is { } speed ? $"[blue]{speed:N0}/s[/]" : "[grey]-[/]");
    }
}
