using System.Globalization;
using System.Text.RegularExpressions;

namespace Mlops.Stream.Faults;

/// <summary>The samples of a Prometheus text exposition, as a scraper would read them.</summary>
public sealed partial class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    /// <exception cref="FormatException">A line is neither a comment nor a sample.</exception>
    public PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var match = SampleLine().Match(line);
            if (!match.Success) throw new FormatException($"not a Prometheus sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    /// <summary>Reads a node's <c>/metrics</c>.</summary>
    public static async Task<PrometheusText> ScrapeAsync(HttpClient node, CancellationToken cancellationToken = default) =>
        new(await node.GetStringAsync("/metrics", cancellationToken).ConfigureAwait(false));

    /// <summary>The sum of every series of <paramref name="name"/> that has all of <paramref name="labels"/> (0 when none).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) =>
        Series(name, labels).Sum(s => s.Value);

    /// <summary>Series of <paramref name="name"/> having all of <paramref name="labels"/>.</summary>
    public IEnumerable<(IReadOnlyDictionary<string, string> Labels, double Value)> Series(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value))
            .Select(s => ((IReadOnlyDictionary<string, string>)s.Labels, s.Value));

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?""")]
    private static partial Regex LabelPair();
}
