using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace IshChat.Migrate.Output;

/// <summary>What a run did, as ordered name/value pairs: JSON for machines (--json), a table for people.</summary>
public sealed class Summary(string command)
{
    private static readonly JsonSerializerOptions json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public Dictionary<string, object?> Values { get; } = new() { ["command"] = command };

    public object? this[string name]
    {
        set => Values[name] = value;
    }

    public void Write(bool asJson)
    {
        if (asJson)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(Values, json));
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        foreach (var (name, value) in Values)
        {
            var text = value is string or null ? value as string ?? "" : JsonSerializer.Serialize(value, json);
            table.AddRow(new Text(name), new Text(text));
        }

        AnsiConsole.Write(table);
    }
}
