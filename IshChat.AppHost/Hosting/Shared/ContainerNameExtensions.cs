using Microsoft.Extensions.Configuration;

namespace IshChat.AppHost.Hosting.Shared;

internal static class ContainerNameExtensions
{
    private const string FixedContainerNamesKey = "IshChat:FixedContainerNames";

    /// <summary>
    /// In development each container is named after its resource, so Patroni users' habits work
    /// (<c>docker exec pg-0 patronictl list</c>). Off in the tests (IshChat:FixedContainerNames=false),
    /// so they can run beside a developer's AppHost; Aspire then appends a random suffix.
    /// </summary>
    public static IResourceBuilder<T> WithDevelopmentContainerName<T>(this IResourceBuilder<T> builder) where T : ContainerResource =>
        builder.ApplicationBuilder.Configuration.GetValue(FixedContainerNamesKey, defaultValue: false)
            ? builder.WithContainerName(builder.Resource.Name)
            : builder;
}
