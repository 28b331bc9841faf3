namespace IshChat.AppHost.Hosting.PgBouncer;

/// <summary>One PgBouncer container of the pooling tier; its resource name is its DNS name.</summary>
public sealed class PgBouncerInstanceResource(string name, PgBouncerResource tier) : ContainerResource(name)
{
    public const string PrimaryEndpointName = "tcp";

    public PgBouncerResource Tier { get; } = tier;

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);
}
