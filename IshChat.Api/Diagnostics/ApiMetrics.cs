using System.Diagnostics.Metrics;
using IshChat.Api.Data;

namespace IshChat.Api.Diagnostics;

/// <summary>
/// The API's own instruments on the "IshChat.Api" meter. Tags have bounded values only (an
/// instance's type, never its id), so the monitoring side's series stay few.
/// </summary>
public sealed class ApiMetrics
{
    public const string MeterName = "IshChat.Api";

    private readonly Counter<long> messagesPosted;
    private readonly Counter<long> transactionRetries;
    private readonly Counter<long> readRoutes;
    private readonly Counter<long> consistencyTokenChecks;
    private readonly Counter<long> cacheLookups;

    public ApiMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        messagesPosted = meter.CreateCounter<long>("ishchat.api.messages.posted", "{message}", "Messages stored (duplicates of a retried post not counted)");
        transactionRetries = meter.CreateCounter<long>("ishchat.api.transaction.retries", "{retry}", "Whole transactions retried after a transient database error");
        readRoutes = meter.CreateCounter<long>("ishchat.api.reads.routed", "{read}", "Reads served by a replica, or by the primary because the replica lagged behind a consistency token");
        consistencyTokenChecks = meter.CreateCounter<long>("ishchat.api.consistency_token.checks", "{check}", "Reads presenting a consistency token, by whether the replica had replayed past it");
        cacheLookups = meter.CreateCounter<long>("ishchat.api.cache.lookups", "{lookup}", "Query cache lookups by result");
    }

    public void MessagePosted(string instanceType) => messagesPosted.Add(1, new KeyValuePair<string, object?>("instance_type", instanceType));

    public void TransactionRetried(string reason) => transactionRetries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ReadRouted(ReadRoute route) =>
        readRoutes.Add(1, new KeyValuePair<string, object?>("route", route == ReadRoute.Replica ? "replica" : "primary_fallback"));

    public void ConsistencyTokenWaited(bool caughtUp) =>
        consistencyTokenChecks.Add(1, new KeyValuePair<string, object?>("replica", caughtUp ? "caught_up" : "behind"));

    /// <summary><paramref name="result"/> is hit, miss, stale (older than the client's token or the key's newest write) or error (Redis down).</summary>
    public void CacheLookup(string result) => cacheLookups.Add(1, new KeyValuePair<string, object?>("result", result));
}
