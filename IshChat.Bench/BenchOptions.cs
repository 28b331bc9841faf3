namespace IshChat.Bench;

public sealed record BenchOptions(string Url, string AdminKey, int Clients, TimeSpan Duration, TimeSpan Warmup, string Label)
{
    public static BenchOptions Parse(string[] args)
    {
        string Value(string name, string? fallback = null)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1]
                : fallback ?? throw new ArgumentException($"{name} is required. Usage: --url URL --admin-key KEY [--clients 16] [--seconds 30] [--warmup 5] [--label text]");
        }

        return new BenchOptions(
            Value("--url"),
            Value("--admin-key", Environment.GetEnvironmentVariable("ISHCHAT_ADMIN_KEY") ?? null),
            int.Parse(Value("--clients", "16")),
            TimeSpan.FromSeconds(int.Parse(Value("--seconds", "30"))),
            TimeSpan.FromSeconds(int.Parse(Value("--warmup", "5"))),
            Value("--label", "chat API"));
    }
}
