namespace IshChat.ServiceDefaults;

/// <summary>
/// The plans an instance is created with (chat.instances.instance_type's CHECK). Each has its own PgBouncer pools, so a
/// flood from one plan's instances waits in its own queue (docs/performance.md).
/// </summary>
public static class InstanceTypes
{
    public const string Trial = "trial";
    public const string Standard = "standard";
    public const string Enterprise = "enterprise";

    public static IReadOnlyList<string> All { get; } = [Trial, Standard, Enterprise];
}
