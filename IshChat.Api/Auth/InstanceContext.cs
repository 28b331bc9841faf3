namespace IshChat.Api.Auth;

/// <summary>The one instance a request is scoped to, established from its API key.</summary>
public sealed record InstanceContext(Guid InstanceId, string InstanceType)
{
    private const string ItemKey = nameof(InstanceContext);

    public static InstanceContext Of(HttpContext http) =>
        http.Items[ItemKey] as InstanceContext ?? throw new InvalidOperationException("The endpoint is not behind the instance key filter.");

    internal void AttachTo(HttpContext http) => http.Items[ItemKey] = this;
}
