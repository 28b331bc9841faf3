namespace IshChat.Cluster.InstanceRestore;

/// <summary>
/// The tables that hold one instance's data, parents before children (the order rows are put back in, so every
/// foreign key finds its parent). Columns and primary keys are read from the live catalog at run time; only what
/// the schema cannot say is here. A new per-instance table in IshChat.MigrationService/Migrations belongs in one of
/// the two lists (InstanceTablesTests holds them against the migrations).
/// </summary>
public static class InstanceTables
{
    public static IReadOnlyList<InstanceTable> Restored { get; } =
    [
        new("chat.instances"),
        // The app role may add a key to its instance but never read one back: keys are put back, not compared.
        new("chat.api_keys", Readable: false),
        new("chat.devices"),
        // message_count numbers the session's messages: going back would hand out a seq twice. Same for the times
        // that only move forward.
        new("chat.sessions", KeepGreatest: ["message_count", "last_message_at", "last_activity_at"]),
        new("chat.messages"),
    ];

    /// <summary>Per-instance tables deliberately left alone, with the reason the report prints.</summary>
    public static IReadOnlyDictionary<string, string> NotRestored { get; } = new Dictionary<string, string>
    {
        ["chat.legacy_imports"] = "legacy import bookkeeping: rerun ishchat-migrate sync instead",
        ["chat.legacy_import_chunks"] = "legacy import bookkeeping",
        ["chat.legacy_id_map"] = "legacy import bookkeeping",
        ["chat.legacy_rejects"] = "legacy import bookkeeping",
    };
}

/// <param name="Name">Schema-qualified table name.</param>
/// <param name="Readable">False when the writing role may insert but not select (nothing to compare against).</param>
/// <param name="KeepGreatest">Columns an overwrite never moves backwards: it takes the greater of live and target.</param>
public sealed record InstanceTable(string Name, bool Readable = true, IReadOnlyList<string>? KeepGreatest = null);
