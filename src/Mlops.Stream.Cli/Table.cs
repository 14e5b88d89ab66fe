using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary>
/// Plain aligned columns for people: an upper-case header, two spaces between columns, "-" for
/// nothing. No colours or box characters, so the output pastes cleanly into tickets and chats.
/// </summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Add(params object?[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        _rows.Add([.. cells.Select(Cell)]);
        return this;
    }

    public void WriteTo(TextWriter output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        WriteRow(output, headers, widths);
        foreach (var row in _rows) WriteRow(output, row, widths);
    }

    public static string Cell(object? value) => value switch
    {
        null => "-",
        string { Length: 0 } => "-",
        string s => s.ReplaceLineEndings(" "),
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    private static void WriteRow(TextWriter output, IReadOnlyList<string> cells, int[] widths)
    {
        var line = string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i])));
        output.WriteLine(line.TrimEnd());
    }
}
