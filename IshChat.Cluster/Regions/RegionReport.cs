namespace IshChat.Cluster.Regions;

/// <summary>What a region procedure (<see cref="RegionPromotion"/>, <see cref="RegionFence"/>) did, step by step.</summary>
public sealed record RegionReport(IReadOnlyList<ProcedureStep> Steps, TimeSpan Total)
{
    public TimeSpan DurationOf(string stepPrefix) =>
        Steps.Where(s => s.Description.StartsWith(stepPrefix, StringComparison.Ordinal)).Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);

    public override string ToString() =>
        $"{string.Join("; ", Steps.Select(s => $"{s.Description} ({s.Duration.TotalSeconds:F1} s)"))}; total {Total.TotalSeconds:F1} s";
}
