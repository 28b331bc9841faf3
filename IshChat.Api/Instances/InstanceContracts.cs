namespace IshChat.Api.Instances;

/// <summary>The kinds of instance; a short fixed list, so metrics may tag by it.</summary>
public static class InstanceTypes
{
    public static readonly IReadOnlyList<string> All = ["trial", "standard", "enterprise"];
}

public sealed record CreateInstanceRequest(string? Name, string? Type);

public sealed record InstanceResponse(Guid InstanceId, string Name, string Type, DateTimeOffset CreatedAt);

/// <summary>An optional expiry for a new key; without one the key works until revoked.</summary>
public sealed record IssueApiKeyRequest(DateTimeOffset? ExpiresAt);

/// <summary>The only time an API key is shown: it is stored as a hash. <c>KeyId</c> names it for revocation.</summary>
public sealed record IssuedApiKey(Guid InstanceId, string ApiKey, Guid KeyId, DateTimeOffset? ExpiresAt);

public sealed record CreatedInstanceResponse(InstanceResponse Instance, string ApiKey, Guid ApiKeyId);

public sealed record InstancePage(IReadOnlyList<InstanceResponse> Items, string? NextCursor);
