using Microsoft.Extensions.Configuration;

namespace IshChat.AppHost.Hosting.Shared;

internal static class ContainerNameExtensions
{
    private const string FixedContainerNamesKey = "IshChat:FixedContainerNames";

    /// <summary>
    /// With IshChat:FixedContainerNames=true each container is named after its resource, so Patroni
    /// users' habits work (<c>docker exec pg-0 patronictl list</c>). Off by default: a second AppHost
    /// on the same engine (a test run) would find containers of those names and attach them to its
    /// own network too, cross-wiring the two clusters. Off, Aspire appends a random suffix.
    /// </summary>
    public static IResourceBuilder<T> WithDevelopmentContainerName<T>(this IResourceBuilder<T> builder) where T : ContainerResource =>
        builder.ApplicationBuilder.Configuration.GetValue(FixedContainerNamesKey, defaultValue: false)
            ? builder.WithContainerName(builder.Resource.Name)
            : builder;
}
