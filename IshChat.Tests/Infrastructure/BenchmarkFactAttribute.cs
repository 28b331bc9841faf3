namespace IshChat.Tests.Infrastructure;

/// <summary>A benchmark in the test runner: skipped unless <paramref name="variable"/> is set to 1 (its bench script sets it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute(string variable)
    {
        Variable = variable;
        if (Environment.GetEnvironmentVariable(variable) != "1")
        {
            Skip = $"A benchmark: its script sets {variable}=1 (bench/chaos.sh).";
        }
    }

    public string Variable { get; }
}
