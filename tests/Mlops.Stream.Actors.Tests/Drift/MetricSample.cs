using System.Globalization;
using System.Text;
using Prometheus;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>Reads one sample of a registry's text exposition: a metric of one model and the given labels, 0 when absent.</summary>
internal static class MetricSample
{
    public static double Read(CollectorRegistry registry, string name, string model, params (string Label, string Value)[] labels)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        var selector = string.Join(",", new[] { ("model", model) }.Concat(labels).Select(l => $"{l.Item1}=\"{l.Item2}\""));
        var line = Encoding.UTF8.GetString(stream.ToArray()).Split('\n').SingleOrDefault(l => l.StartsWith($"{name}{{{selector}}} ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
