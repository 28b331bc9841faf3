namespace IshChat.Tests.Azure;

/// <summary>
/// <c>--filter Category=Azure</c>: the Azure deployment checked offline (Bicep CLI, manifest, azure.yaml).
/// No Docker, no Azure, no network.
/// </summary>
internal static class AzureCategory
{
    public const string Value = "Azure";
}
