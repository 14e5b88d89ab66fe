using System.Globalization;
using System.Text.Json;

namespace Mlops.Stream.Bench;

/// <summary>Command-line options shared by scenarios: <c>--name value</c> pairs.</summary>
public sealed class BenchArgs(IReadOnlyDictionary<string, string> values)
{
    public static BenchArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2)
            values[args[i].TrimStart('-')] = args[i + 1];
        return new BenchArgs(values);
    }

    public int Int(string name, int fallback) =>
        values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A text option; null when not given.</summary>
    public string? Text(string name) => values.TryGetValue(name, out var text) ? text : null;

    /// <summary>A comma-separated list of whole numbers, such as <c>--clients 1,16,64,256</c>.</summary>
    public int[] Ints(string name, int[] fallback) =>
        values.TryGetValue(name, out var text)
            ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => int.Parse(t, CultureInfo.InvariantCulture))]
            : fallback;
}

/// <summary>A scenario's figures: rows for people, one JSON object (the last line) for scripts.</summary>
public sealed class BenchResult(string scenario)
{
    private readonly List<(string Name, string Value, string Unit)> _rows = new();
    private readonly Dictionary<string, object> _json = new() { ["scenario"] = scenario };

    public BenchResult Add(string jsonName, string label, double value, string unit)
    {
        _rows.Add((label, value.ToString(value >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture), unit));
        _json[jsonName] = Math.Round(value, 4);
        return this;
    }

    public BenchResult Note(string jsonName, object value)
    {
        _json[jsonName] = value;
        return this;
    }

    public void Print(TextWriter writer)
    {
        var width = _rows.Max(r => r.Name.Length);
        writer.WriteLine();
        writer.WriteLine($"{"figure".PadRight(width)}  {"value",14}  unit");
        writer.WriteLine(new string('-', width + 24));
        foreach (var (name, value, unit) in _rows)
            writer.WriteLine($"{name.PadRight(width)}  {value,14}  {unit}");
        writer.WriteLine();
        writer.WriteLine(JsonSerializer.Serialize(_json));
    }
}
