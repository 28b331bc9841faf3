using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IshChat.Tests.Infrastructure;

/// <summary>
/// Sends a fixture's logs to xunit's diagnostic messages, so a long cluster start shows its
/// progress in the test run's output (fixtures get no ITestOutputHelper).
/// </summary>
public sealed class MessageSinkLoggerProvider(IMessageSink sink, LogLevel minimumLevel = LogLevel.Information) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new SinkLogger(sink, categoryName, minimumLevel);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(IMessageSink sink, string category, LogLevel minimumLevel) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var shortCategory = category[(category.LastIndexOf('.') + 1)..];
            var message = $"[{DateTime.UtcNow:HH:mm:ss}] {logLevel.ToString()[..4]} {shortCategory}: {formatter(state, exception)}";
            if (exception is not null)
            {
                message += Environment.NewLine + exception.Message;
            }

            sink.OnMessage(new DiagnosticMessage(message));
        }
    }
}
