namespace IshChat.AppHost.Hosting.Shared;

/// <summary>Npgsql's multi-host form, <c>host1:port1,host2:port2</c>, from endpoints resolved when the app runs.</summary>
internal static class MultiHost
{
    public static ReferenceExpression Of(IEnumerable<EndpointReference> endpoints)
    {
        var builder = new ReferenceExpressionBuilder();
        var first = true;
        foreach (var endpoint in endpoints)
        {
            if (!first)
            {
                builder.AppendLiteral(",");
            }

            builder.Append($"{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}");
            first = false;
        }

        return builder.Build();
    }
}
