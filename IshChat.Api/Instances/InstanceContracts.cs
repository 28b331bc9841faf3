namespace IshChat.Api.Instances;

/// <summary>The kinds of instance; a short fixed list, so metrics may tag by it.</summary>
public static class InstanceTypes
{
    public static readonly IReadOnlyList<string> All = ["trial", "standard", "enterprise"];
}

public sealed record CreateInstanceRequest(string? Name, string? Type);

public sealed record InstanceResponse(Guid InstanceId, string Name, string Type, DateTimeOffset CreatedAt);

/// <summary>The only time an API key is shown: it is stored as a hash.</summary>
public sealed record IssuedApiKey(Guid InstanceId, string ApiKey);

public sealed record CreatedInstanceResponse(InstanceResponse Instance, string ApiKey);

public sealed record InstancePage(IReadOnlyList<InstanceResponse> Items, string? NextCursor);
