using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace IshChat.Tests.Infrastructure;

/// <summary>Evaluates a resource's environment as the orchestrator would at start, without starting it.</summary>
public static class ResourceEnvironment
{
    public static async Task<Dictionary<string, string>> EvaluateAsync(IResource resource, IServiceProvider services)
    {
        var executionContext = new DistributedApplicationExecutionContext(
            new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Run) { Services = services });
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(executionContext, NullLogger.Instance, CancellationToken.None);
        if (configuration.Exception is not null)
        {
            ExceptionDispatchInfo.Throw(configuration.Exception);
        }

        return configuration.EnvironmentVariables.ToDictionary();
    }
}
