using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// The Grafana dashboard (deploy/grafana/mlops-stream.json) and the Prometheus alerting rules
/// (deploy/prometheus/alerts.yml) query only metrics a node exports: a renamed or misspelled metric
/// makes a panel empty or an alert silent without any error, so this test is what notices.
/// </summary>
/// <remarks>
/// Every <c>mlops_*</c> identifier in the dashboard's <c>expr</c> fields and in the rules' <c>expr</c>
/// fields is reduced to its family (<c>_bucket</c>, <c>_sum</c>, <c>_count</c> dropped) and must have a
/// <c># TYPE</c> line in the <c>/metrics</c> of a real node after one HTTP inference. prometheus-net
/// writes <c># HELP</c>/<c># TYPE</c> for every family the node declares, even a labelled one with no
/// series yet (dead letters, swaps, rollbacks, stream restarts, dropped served events before any
/// happened), so this checks the node's declared families, not only the ones that have counted
/// something; it does not check label names or values. The replica's lifecycle counters are also
/// created at 0 when the replica starts, which the test checks for the stream restarts the
/// MlopsKafkaStreamRestarting alert watches: <c>increase()</c> would not see the first restart of a
/// series born at 1.
/// </remarks>
public sealed partial class DeployDashboardsTests
{
    private const string Model = "fraud-demo";

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alerts_query_is_exported_by_a_node()
    {
        var root = RepositoryRoot();
        var dashboard = DashboardExpressions(Path.Combine(root, "deploy", "grafana", "mlops-stream.json"));
        var alerts = AlertExpressions(Path.Combine(root, "deploy", "prometheus", "alerts.yml"));
        Assert.True(dashboard.Count >= 10, $"the dashboard has {dashboard.Count} expr fields");
        Assert.True(alerts.Count >= 6, $"alerts.yml has {alerts.Count} expr fields");

        await using var node = await TestNode.StartAsync();
        await node.WaitForOkAsync($"/v2/models/{Model}/ready");
        using (var infer = await node.Http.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(DemoRequest())))
            Assert.Equal(HttpStatusCode.OK, infer.StatusCode);

        var exported = await Eventually.ReadsAsync(async () =>
            {
                using var response = await node.Http.GetAsync("/metrics");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var text = await response.Content.ReadAsStringAsync();
                return (Families: Families(text), Samples: new PrometheusText(text));
            }, metrics => metrics.Samples.Sum("mlops_requests_total", ("model", Model), ("outcome", "success")) == 1
                          && metrics.Samples.Series("mlops_sharding_entities", ("model", Model)).Any(),
            "/metrics shows the request and its replica", TimeSpan.FromSeconds(30),
            metrics => metrics.Samples.Text, TimeSpan.FromMilliseconds(200));

        var problems = new List<string>();
        foreach (var (source, expressions) in new[] { ("deploy/grafana/mlops-stream.json", dashboard), ("deploy/prometheus/alerts.yml", alerts) })
        {
            foreach (var expression in expressions)
            {
                var names = MetricNames(expression);
                if (names.Count == 0) problems.Add($"{source}: an expr names no mlops_ metric: {expression}");
                problems.AddRange(names.Where(name => !exported.Families.Contains(name))
                    .Select(name => $"{source}: {name} is not a metric family in a node's /metrics, in: {expression}"));
            }
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\nexported: " + string.Join(' ', exported.Families.Order()));

        // Lifecycle counters start at 0 with the replica, so increase() sees their first event.
        Assert.Single(exported.Samples.Series("mlops_kafka_stream_restarts_total", ("model", Model)));
        Assert.Equal(2, exported.Samples.Series("mlops_model_swaps_total", ("model", Model)).Count());
        Assert.Equal(2, exported.Samples.Series("mlops_model_rollbacks_total", ("model", Model)).Count());
    }

    [Fact]
    public void The_name_extraction_finds_families_and_skips_functions_and_labels()
    {
        var names = MetricNames("""histogram_quantile(0.99, sum by (le, model) (rate(mlops_end_to_end_seconds_bucket{model=~"$model"}[5m]))) / mlops_batch_size_count + mlops_requests_total""");
        Assert.Equal(["mlops_batch_size", "mlops_end_to_end_seconds", "mlops_requests_total"], names.Order());
    }

    /// <summary>Families named by <c># TYPE</c> lines.</summary>
    private static HashSet<string> Families(string text) =>
        text.Split('\n').Where(l => l.StartsWith("# TYPE ")).Select(l => l.Split(' ')[2]).ToHashSet();

    private static HashSet<string> MetricNames(string expression) =>
        MetricIdentifier().Matches(expression).Select(m => HistogramSuffix().Replace(m.Value, "")).ToHashSet();

    private static List<string> DashboardExpressions(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var found = new List<string>();
        Walk(document.RootElement);
        return found;

        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String) found.Add(property.Value.GetString()!);
                    else Walk(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray()) Walk(item);
            }
        }
    }

    /// <summary>
    /// The <c>expr</c> values of a rules file: the rest of the <c>expr:</c> line, or for a block
    /// scalar (<c>|</c>, <c>&gt;</c>) the lines indented deeper than the key. Enough for our file, not a YAML parser.
    /// </summary>
    private static List<string> AlertExpressions(string path)
    {
        var lines = File.ReadAllLines(path);
        var found = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var match = ExprKey().Match(lines[i]);
            if (!match.Success) continue;
            var value = match.Groups["value"].Value.Trim();
            if (value.Length > 0 && value[0] is not ('|' or '>'))
            {
                found.Add(value);
                continue;
            }
            var indent = match.Groups["indent"].Value.Length;
            var block = new List<string>();
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent))
                block.Add(lines[++i].Trim());
            found.Add(string.Join(' ', block).Trim());
        }
        return found;
    }

    private static byte[] DemoRequest() => """
        {"id": "tx-1",
         "inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 30],
                     "data": [120.5, 3, 0.8, 12.1, 0.2, 1, 0, 0.5, -1.2, 0.3, 0.1, -0.4, 0.9, 1.1, -0.7,
                              0.2, 0.0, -0.3, 0.6, 1.4, -0.9, 0.1, 0.2, 0.3, -0.1, 0.05, 0.7, -0.2, 0.4, 0.8]}]}
        """u8.ToArray();

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Mlops.Stream.slnx"))) return directory.FullName;
        throw new InvalidOperationException($"no Mlops.Stream.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\bmlops_[a-zA-Z0-9_]+")]
    private static partial Regex MetricIdentifier();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();

    [GeneratedRegex(@"^(?<indent>\s*)(-\s+)?expr:(?<value>.*)$")]
    private static partial Regex ExprKey();
}
