using System.Globalization;

namespace IshChat.Cluster.Backup;

/// <summary>The point a new cluster is recovered to: the end of the archive, a time, an LSN or a named restore point.</summary>
public sealed record RestoreTarget
{
    private RestoreTarget(string type, string? target) => (Type, Target) = (type, target);

    /// <summary>pgBackRest's recovery type, as <c>ISHCHAT_RESTORE_TYPE</c> takes it.</summary>
    public string Type { get; }

    /// <summary>pgBackRest's <c>--target</c>, or null for <see cref="Latest"/> and <see cref="Consistent"/>.</summary>
    public string? Target { get; }

    /// <summary>Everything the archive holds.</summary>
    public static RestoreTarget Latest { get; } = new("latest", null);

    /// <summary>The end of the backup only: the earliest consistent point.</summary>
    public static RestoreTarget Consistent { get; } = new("immediate", null);

    /// <summary>Transactions committed up to and including <paramref name="time"/>.</summary>
    public static RestoreTarget At(DateTimeOffset time) =>
        new("time", time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture));

    /// <summary>Up to a write-ahead log position such as <c>0/3000060</c> (from <c>pg_current_wal_lsn()</c>).</summary>
    public static RestoreTarget AtLsn(string lsn)
    {
        ArgumentException.ThrowIfNullOrEmpty(lsn);
        return new("lsn", lsn);
    }

    /// <summary>Up to a point made with <c>pg_create_restore_point(name)</c>.</summary>
    public static RestoreTarget AtRestorePoint(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new("name", name);
    }

    /// <summary>
    /// A target as configuration states it: <paramref name="type"/> one of latest, immediate, time, lsn, name, and
    /// <paramref name="target"/> the time (any form <see cref="DateTimeOffset.Parse(string, IFormatProvider)"/> reads,
    /// UTC unless it says otherwise), LSN or restore point name.
    /// </summary>
    public static RestoreTarget Parse(string type, string? target) => type.Trim().ToLowerInvariant() switch
    {
        "latest" => Latest,
        "immediate" => Consistent,
        "time" => At(DateTimeOffset.Parse(target ?? throw new ArgumentException("A time restore needs the time.", nameof(target)),
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)),
        "lsn" => AtLsn(target ?? throw new ArgumentException("An LSN restore needs the LSN.", nameof(target))),
        "name" => AtRestorePoint(target ?? throw new ArgumentException("A named restore needs the restore point's name.", nameof(target))),
        _ => throw new ArgumentException($"'{type}' is not a restore type: latest, immediate, time, lsn or name.", nameof(type)),
    };

    public override string ToString() => Target is null ? Type : $"{Type} {Target}";
}
