using System.Collections.Immutable;

namespace IshChat.AppHost.Hosting.Shared;

internal static class ResourcePropertyExtensions
{
    /// <summary>Sets one dashboard property, replacing any earlier value of the same name.</summary>
    public static ImmutableArray<ResourcePropertySnapshot> With(this ImmutableArray<ResourcePropertySnapshot> properties, string name, object? value) =>
        [.. properties.Where(p => p.Name != name), new ResourcePropertySnapshot(name, value)];
}
