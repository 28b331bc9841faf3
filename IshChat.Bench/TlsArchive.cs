using System.Formats.Tar;
using IshChat.Cluster.Tls;

namespace IshChat.Bench;

/// <summary>
/// <c>tls-archive --ca FILE --image etcd|patroni --name NAME</c>: a server's TLS files as a tar on stdout, for a
/// shell bench that starts containers with <c>docker create</c> (bench/backup.sh) to copy in with
/// <c>docker cp -a - CONTAINER:/etc</c> before it starts them. The same CA, names, lifetimes, owners and modes as
/// the AppHost and the test clusters hand over (<see cref="TlsFiles"/>, <see cref="ServerNames"/>), so a shell
/// bench can't drift from them; <c>-a</c> keeps the tar's owners, which is how Docker copies files in by uid.
/// The CA is made on the first call and kept in <c>--ca</c> (<see cref="ClusterCertificateAuthority.ToPem"/>,
/// private key included: keep that file in the bench's private temp folder).
/// </summary>
public static class TlsArchive
{
    public const string Command = "tls-archive";

    private const string Usage = "Usage: tls-archive --ca FILE --image etcd|patroni --name NAME   (a tar of /etc/ishchat/tls on stdout, for docker cp -a - CONTAINER:/etc)";

    public static int Run(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        if (Value("--ca") is not { } caFile || Value("--image") is not { } component || Value("--name") is not { } name)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        // Only the servers a shell bench starts; each one's names are the cluster's rule for that server.
        (ClusterImage Image, IReadOnlyList<string> Names)? server = component switch
        {
            "etcd" => (ClusterImages.Etcd, ServerNames.EtcdMember(name)),
            "patroni" => (ClusterImages.Patroni, ServerNames.PatroniNode(name, routers: [])), // no HAProxy in front
            _ => null,
        };
        if (server is not { } chosen)
        {
            Console.Error.WriteLine($"Unknown image '{component}'. {Usage}");
            return 2;
        }

        var owner = chosen.Image.RunsAs!;
        var files = chosen.Image == ClusterImages.Patroni
            ? TlsFiles.ForPatroniNode(AuthorityIn(caFile), chosen.Names)
            : TlsFiles.ForServer(AuthorityIn(caFile), chosen.Names);
        using var stdout = Console.OpenStandardOutput();
        using (var tar = new TarWriter(stdout, TarEntryFormat.Pax, leaveOpen: true))
        {
            // Relative to /etc; the folders root's and world-readable, as the image's own /etc.
            var folder = TlsFiles.Directory["/etc/".Length..];
            foreach (var directory in new[] { folder[..folder.IndexOf('/', StringComparison.Ordinal)], folder })
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory + "/")
                {
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                        | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                });
            }

            foreach (var file in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{folder}/{file.Name}")
                {
                    Uid = owner.Uid, Gid = owner.Gid, UserName = owner.Name, GroupName = owner.Name, Mode = file.Mode,
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(file.Content)),
                });
            }
        }

        return 0;
    }

    /// <summary>The bench's CA: read from <paramref name="file"/>, or made and written there (0600) on the first call.</summary>
    private static ClusterCertificateAuthority AuthorityIn(string file)
    {
        if (File.Exists(file))
        {
            return ClusterCertificateAuthority.FromPem(File.ReadAllText(file));
        }

        var authority = ClusterCertificateAuthority.Create(TimeSpan.FromDays(2));
        File.WriteAllText(file, authority.ToPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // The public half beside it: what a host-side client (ishchat-restore-instance) verifies the nodes against.
        File.WriteAllText(Path.ChangeExtension(file, ".crt"), authority.CertificatePem);
        return authority;
    }
}
