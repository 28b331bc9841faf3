using System.Collections.Concurrent;

namespace IshChat.Tests.Api;

/// <summary>
/// Every sequence number the API handed out (in a post's answer or a read's page) with the message it named. After an
/// asynchronous failover that lost commits, a number handed out again for another message is the bug that would make
/// a client's cursor skip a message: counted here.
/// </summary>
public sealed class SequenceLedger
{
    private readonly ConcurrentDictionary<long, Guid> messageOf = new();
    private readonly ConcurrentDictionary<long, bool> reused = new();

    public int Reused => reused.Count;

    public void Saw(long seq, Guid clientMessageId)
    {
        var first = messageOf.GetOrAdd(seq, clientMessageId);
        if (first != clientMessageId)
        {
            reused[seq] = true;
        }
    }
}
