namespace IshChat.AppHost.Hosting.Exporters;

/// <summary>
/// The host directory node_exporter's textfile collector reads (bind-mounted read-only): where the app host's batch
/// jobs, the restore drills, leave their results as <c>*.prom</c> files for Prometheus. One per app host process, so a
/// test run beside a developer's AppHost keeps its own.
/// </summary>
internal static class NodeExporterTextfiles
{
    public static string Directory { get; } =
        System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ishchat", $"textfile-{Environment.ProcessId}")).FullName;
}
