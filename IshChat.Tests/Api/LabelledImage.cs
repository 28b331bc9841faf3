using IshChat.Cluster.Docker;
using IshChat.Cluster.Images;

namespace IshChat.Tests.Api;

/// <summary>
/// A new image of a running one: the same content plus a label, built locally (no registry), as a rebuild from newer Debian
/// packages would be. Disposing puts the original image back behind <c>reference</c> (the engine's everyday tag stays what the
/// repository's recipe built) and drops the test's tags; containers created from the labelled image keep it.
/// </summary>
internal sealed class LabelledImage : IAsyncDisposable
{
    private readonly string reference;
    private readonly string tag;

    private LabelledImage(string reference, string tag, string id)
    {
        this.reference = reference;
        this.tag = tag;
        Id = id;
    }

    public string Id { get; }

    public static async Task<LabelledImage> BuildAsync(string reference)
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        var context = Directory.CreateTempSubdirectory("ishchat-image-update-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(context.FullName, "Dockerfile"), $"FROM {reference}\nLABEL io.ishchat.update-test={marker}\n");
            var tag = $"ishchat-test/patroni-update:{marker}";
            await DockerCli.RunAsync(["build", "--pull=false", "--quiet", "-t", tag, context.FullName]);
            return new LabelledImage(reference, tag, (await ImageReplacement.ImageIdAsync(tag))!);
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        var previous = ImageReplacement.PreviousOf(reference);
        if (await DockerCli.ImageExistsAsync(previous))
        {
            await DockerCli.RunAsync(["image", "tag", previous, reference]);
            await DockerCli.ExecuteAsync(["image", "rm", previous]);
        }

        await DockerCli.ExecuteAsync(["image", "rm", ImageReplacement.CandidateOf(reference)]);
        // Forced: the nodes recreated on it use it, and a plain rm refuses to untag an image's last tag while containers use it.
        await DockerCli.ExecuteAsync(["image", "rm", "--force", tag]);
    }
}
