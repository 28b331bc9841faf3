namespace IshChat.Cluster.Patroni;

/// <summary>Patroni's REST API refused a request (wrong state, no candidate, bad credentials).</summary>
public sealed class PatroniRequestException(string message) : Exception(message);
