using System.Diagnostics;

namespace IshChat.Tests.Api;

/// <summary>The longest time between two successes of many concurrent clients: how long clients as a whole got nothing done.</summary>
public sealed class LongestPause
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long lastSuccessTicks;
    private long longestTicks;

    public TimeSpan Longest => TimeSpan.FromTicks(Interlocked.Read(ref longestTicks));

    public void Success()
    {
        var now = clock.Elapsed.Ticks;
        var pause = now - Interlocked.Exchange(ref lastSuccessTicks, now);
        long longest;
        while (pause > (longest = Interlocked.Read(ref longestTicks)) && Interlocked.CompareExchange(ref longestTicks, pause, longest) != longest)
        {
        }
    }
}
