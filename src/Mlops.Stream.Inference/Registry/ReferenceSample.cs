using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// Raw reference values of a model version's features, one column per feature: what the exact
/// two-sample drift tests compare served traffic against, and what the version's reference
/// profile is computed from. Uploaded as CSV with the feature names as header
/// (<c>mlops models register ... --reference data.csv</c>) or taken from a past window of served
/// traffic (<c>mlops drift baseline</c>), and stored beside the model as <see cref="FileName"/>.
/// Bounded: at most <see cref="MaxRows"/> rows and <see cref="MaxBytes"/> of CSV, so a sample
/// always fits comfortably in a drift job's memory (30 features × 50,000 rows is 12 MB of doubles).
/// </summary>
public sealed record ReferenceSample
{
    public const string FileName = "reference.csv";

    /// <summary>The most rows a sample may hold; a larger upload is refused (and a baseline is sampled down to it).</summary>
    public const int MaxRows = 50_000;

    /// <summary>The most bytes a CSV upload may have.</summary>
    public const long MaxBytes = 16L * 1024 * 1024;

    private ReferenceSample(ImmutableArray<string> features, double[][] columns)
    {
        Features = features;
        Columns = columns;
    }

    /// <summary>The feature names, in column order (the CSV header).</summary>
    public ImmutableArray<string> Features { get; }

    /// <summary>One array of values per feature, all of <see cref="Rows"/> finite values. Not to be changed.</summary>
    public IReadOnlyList<double[]> Columns { get; }

    public int Rows => Columns.Count == 0 ? 0 : Columns[0].Length;

    /// <summary>A sample of <paramref name="columns"/> (one array per feature, equal lengths, finite values).</summary>
    /// <exception cref="ReferenceSampleException">Names and columns disagree, a value is not finite, or there are no rows or too many.</exception>
    public static ReferenceSample Of(IReadOnlyList<string> features, IReadOnlyList<double[]> columns)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(columns);
        CheckNames(features);
        if (columns.Count != features.Count)
            throw new ReferenceSampleException($"{features.Count} feature names but {columns.Count} columns");
        var rows = columns.Count == 0 ? 0 : columns[0].Length;
        if (rows == 0) throw new ReferenceSampleException("the sample has no rows");
        if (rows > MaxRows) throw new ReferenceSampleException($"the sample has {rows} rows; at most {MaxRows} are allowed");
        for (var f = 0; f < columns.Count; f++)
        {
            if (columns[f].Length != rows)
                throw new ReferenceSampleException($"column '{features[f]}' has {columns[f].Length} values, the first has {rows}");
            if (Array.FindIndex(columns[f], v => !double.IsFinite(v)) is var bad and >= 0)
                throw new ReferenceSampleException($"column '{features[f]}', row {bad + 1}: {columns[f][bad]} is not a finite number");
        }

        return new ReferenceSample([.. features], [.. columns.Select(c => c.ToArray())]);
    }

    /// <summary>
    /// Reads CSV: a header of feature names, then one row of numbers per line (invariant culture,
    /// comma-separated, no quoting of numbers; names may be double-quoted). Blank lines are skipped.
    /// </summary>
    /// <exception cref="ReferenceSampleException">The first problem, with its line and column: a cell that is no finite number, a row of the wrong length, too many rows or bytes.</exception>
    public static ReferenceSample ParseCsv(ReadOnlySpan<byte> csv)
    {
        if (csv.Length > MaxBytes) throw new ReferenceSampleException($"the CSV has {csv.Length} bytes; at most {MaxBytes} are allowed");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(csv);
        }
        catch (DecoderFallbackException)
        {
            throw new ReferenceSampleException("the CSV is not UTF-8 text");
        }

        using var reader = new StringReader(text.TrimStart('\uFEFF'));
        string? header;
        var line = 0;
        do
        {
            header = reader.ReadLine();
            line++;
        }
        while (header is not null && header.Trim().Length == 0);
        if (header is null) throw new ReferenceSampleException("the CSV is empty; its first line must name the features");
        var features = header.Split(',').Select(n => n.Trim().Trim('"').Trim()).ToArray();
        CheckNames(features);

        var columns = features.Select(_ => new List<double>()).ToArray();
        while (reader.ReadLine() is { } row)
        {
            line++;
            if (row.Trim().Length == 0) continue;
            var cells = row.Split(',');
            if (cells.Length != features.Length)
                throw new ReferenceSampleException($"line {line}: {cells.Length} cells, the header names {features.Length} features");
            if (columns[0].Count == MaxRows) throw new ReferenceSampleException($"the CSV has more than {MaxRows} rows");
            for (var f = 0; f < cells.Length; f++)
            {
                if (!double.TryParse(cells[f].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                    throw new ReferenceSampleException($"line {line}, column '{features[f]}': '{cells[f].Trim()}' is not a finite number");
                columns[f].Add(value);
            }
        }

        if (columns[0].Count == 0) throw new ReferenceSampleException("the CSV has a header but no rows");
        return new ReferenceSample([.. features], [.. columns.Select(c => c.ToArray())]);
    }

    /// <summary>The sample as CSV (what <see cref="ParseCsv"/> reads back to equal values: doubles are written round-trippable).</summary>
    public byte[] ToCsv()
    {
        var text = new StringBuilder();
        text.AppendJoin(',', Features).Append('\n');
        for (var r = 0; r < Rows; r++)
        {
            for (var f = 0; f < Columns.Count; f++)
            {
                if (f > 0) text.Append(',');
                text.Append(Columns[f][r].ToString("R", CultureInfo.InvariantCulture));
            }
            text.Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The reference profile of the sample: one quantile-edged histogram per feature (<see cref="FeatureProfile.FromValues"/>), in column order.</summary>
    public ImmutableArray<FeatureProfile> Profile() =>
        [.. Features.Select((name, f) => FeatureProfile.FromValues(name, Columns[f]))];

    /// <summary>
    /// Why this sample cannot be the reference of a model with <paramref name="signature"/> and
    /// declared <paramref name="featureNames"/>; null when it can. The model must take one
    /// [rows, columns] input with as many columns as the sample has features, and when feature names
    /// are declared the header must name them in the same order.
    /// </summary>
    public string? ProblemFor(Wire.ModelSignature signature, ImmutableArray<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (!featureNames.IsDefaultOrEmpty)
        {
            return featureNames.SequenceEqual(Features)
                ? null
                : $"the header names [{string.Join(", ", Features)}] but the model's feature names are [{string.Join(", ", featureNames)}] (same names, same order)";
        }

        if (signature.Inputs is not [var input] || input.Shape is not [_, var columns])
            return "the model does not take one [rows, columns] input, so its features cannot be matched to the header; declare feature_names in the manifest";
        return columns == Features.Length
            ? null
            : $"the header names {Features.Length} features but the model's input '{input.Name}' has {columns} columns";
    }

    private static void CheckNames(IReadOnlyList<string> features)
    {
        if (features.Count == 0 || features.Any(string.IsNullOrEmpty))
            throw new ReferenceSampleException("the header must name every feature (an empty name was found)");
        if (features.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ReferenceSampleException($"the header names '{twice.Key}' twice");
    }
}

/// <summary>A reference sample could not be read or is not acceptable; the message says why (and where, for CSV).</summary>
public sealed class ReferenceSampleException(string message) : Exception(message);
