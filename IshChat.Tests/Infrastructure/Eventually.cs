using System.Diagnostics;

namespace IshChat.Tests.Infrastructure;

/// <summary>Polls until a condition holds: the cluster converges, it doesn't answer at once.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<CancellationToken, Task<T>> probe, Func<T, bool> accept, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        Exception? lastError = null;
        T? last = default;
        while (stopwatch.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                last = await probe(cancellationToken);
                if (accept(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lastError = ex;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }

        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0} s. Last value: {Describe(last)}; last error: {lastError?.Message}", lastError);
    }

    /// <summary>Lists a collection's items (e.g. the alerts Alertmanager held) instead of printing its type name.</summary>
    private static string Describe(object? value) => value switch
    {
        null => "none",
        string text => text,
        IEnumerable<KeyValuePair<string, string>> pairs => "{" + string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) + "}",
        System.Collections.IEnumerable items => "[" + string.Join("; ", items.Cast<object?>().Take(20).Select(Describe)) + "]",
        _ => value.ToString() ?? "",
    };
}
