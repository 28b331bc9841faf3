namespace IshChat.Cluster.Images;

/// <summary>
/// The unprivileged user an image runs as, by number: files handed to its containers (certificates, keys) must be
/// owned by it, and Docker copies files in by uid/gid, not by name. The numbers come from the shared package layer's
/// one apt transaction (or the image's own useradd) and so stay put; <c>ImageUserTests</c> checks them against each image.
/// </summary>
public sealed record ContainerUser(string Name, int Uid, int Gid);
