namespace IshChat.Cluster.Etcd;

/// <summary>
/// The leader key as etcd holds it at one moment: who it names, the revision of its last write, and the lease
/// keeping it alive. A holder that restarts and takes its key again writes it anew under a new lease, so the
/// revision changes even when the name does not.
/// </summary>
public sealed record LeaderKeyState(string Holder, long ModRevision, long Lease);
