using System.Net;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>One node serving the demo model, shared by the tests of <see cref="KafkaCommandsAgainstNodeTests"/>.</summary>
public sealed class DemoNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    public string Url => Node.Address.ToString();

    public async Task InitializeAsync()
    {
        Node = await TestNode.StartAsync();
        (await Node.WaitForOkAsync("/v2/models/fraud-demo/ready")).Dispose();
    }

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// The Kafka commands of the `mlops` CLI against a real node with its embedded broker and the demo
/// model: topics, an open-loop load with every prediction matched, the serving group's lag reaching
/// zero, tails of predictions and dead letters.
/// </summary>
public sealed class KafkaCommandsAgainstNodeTests(DemoNodeFixture fixture) : IClassFixture<DemoNodeFixture>
{
    private const string RequestTopic = "mlops.requests.fraud-demo.v1";

    [Fact]
    public async Task Topics_list_shows_the_demo_models_five_topics_and_the_audit_topic()
    {
        var (code, output, error) = await Mlops("topics", "list", "--output", "json");

        Assert.True(code == 0, error);
        var topics = JsonDocument.Parse(output).RootElement.EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.Clone());
        Assert.Equal("audit", topics["mlops.audit.v1"].GetProperty("family").GetString());
        foreach (var (family, topic) in new[]
                 {
                     ("requests", RequestTopic), ("predictions", "mlops.predictions.fraud-demo.v1"),
                     ("served", "mlops.served.fraud-demo.v1"), ("dlq", "mlops.requests.fraud-demo.dlq.v1"),
                     ("drift", "mlops.drift.fraud-demo.v1"),
                 })
        {
            Assert.Equal(family, topics[topic].GetProperty("family").GetString());
            Assert.Equal("fraud-demo", topics[topic].GetProperty("model").GetString());
            Assert.Equal(family == "drift" ? 1 : 8, topics[topic].GetProperty("partitions").GetInt32());
        }

        (code, output, _) = await Mlops("topics", "list");
        Assert.Equal(0, code);
        Assert.Matches(@"(?m)^mlops\.requests\.fraud-demo\.v1\s+requests\s+fraud-demo\s+8\s+\d+$", output);
    }

    [Fact]
    public async Task Describing_an_unknown_topic_exits_1_and_does_not_create_it()
    {
        var (code, _, error) = await Mlops("topics", "describe", "mlops.requests.nobody.v1");

        Assert.Equal(1, code);
        Assert.Contains("topic_not_found", error);
        // The embedded broker creates a topic that a metadata request names; the node never names one.
        (_, var output, _) = await Mlops("topics", "list", "--output", "json");
        Assert.DoesNotContain("nobody", output);
    }

    [Fact]
    public async Task Load_gets_a_prediction_for_every_request_the_serving_group_catches_up_and_a_tail_shows_the_predictions()
    {
        var (code, output, error) = await Mlops("load", "fraud-demo", "--rate", "50", "--duration", "2s", "--output", "json");

        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var sent = report.GetProperty("sent").GetInt64();
        Assert.Equal(100, sent);
        Assert.Equal(0, report.GetProperty("failed").GetInt64());
        Assert.Equal(sent, report.GetProperty("predicted").GetInt64());
        Assert.Equal(0, report.GetProperty("missing").GetInt64());
        // Both latency measures are reported under their stable names (the figures themselves are for bench/, not tests).
        foreach (var measure in new[] { "kafka_latency_ms", "client_latency_ms" })
            foreach (var figure in new[] { "p50", "p90", "p99", "max" })
                Assert.Equal(JsonValueKind.Number, report.GetProperty(measure).GetProperty(figure).ValueKind);

        // Offsets are committed after the predictions are acknowledged, so the lag reaches 0 soon after.
        var detail = await WaitForTopicAsync(RequestTopic, t => t.GetProperty("groups")[0].GetProperty("lag").GetInt64() == 0);
        Assert.True(detail.GetProperty("end_offset").GetInt64() >= sent);
        Assert.Equal("mlops-serve.fraud-demo", detail.GetProperty("groups")[0].GetProperty("group").GetString());
        (code, output, _) = await Mlops("topics", "describe", RequestTopic);
        Assert.Equal(0, code);
        Assert.Contains("Group mlops-serve.fraud-demo: lag 0.", output);

        (code, output, error) = await Mlops("tail", "predictions", "fraud-demo", "--from", "beginning", "--limit", "5");
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.Matches(@"^\S+ \S+Z  \d:\d+  \S+  version 1  probabilities=\[[^\]]+\]  label=\[[01]\]$", line));
    }

    [Fact]
    public async Task A_malformed_request_written_through_the_produce_route_shows_in_the_dlq_tail_with_its_error_code()
    {
        const string body = """[{"id":"malformed-1","inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[1,2]}]}]""";
        using var response = await fixture.Node.Http.PostAsync("/api/v1/models/fraud-demo/requests",
            new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var written = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(RequestTopic, written.GetProperty("topic").GetString());
        Assert.Equal("malformed-1", written.GetProperty("records")[0].GetProperty("id").GetString());

        var (code, output, error) = await Mlops("tail", "dlq", "fraud-demo", "--from", "beginning", "--limit", "1");

        Assert.True(code == 0, error);
        Assert.Matches(@"^\S+ \S+Z  \d:\d+  malformed-1  shape_mismatch: .*\[1,2\].*$", output.Trim());
        (code, output, _) = await Mlops("tail", "dlq", "fraud-demo", "--from", "beginning", "--limit", "1", "--output", "json");
        Assert.Equal(0, code);
        var record = JsonDocument.Parse(output).RootElement;
        Assert.Equal("shape_mismatch", record.GetProperty("headers").GetProperty("mlops-error-code").GetString());
        Assert.Equal("malformed-1", record.GetProperty("value").GetProperty("id").GetString());
    }

    private async Task<(int Code, string Output, string Error)> Mlops(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await global::Mlops.Stream.Cli.Cli.RunAsync([.. args, "--url", fixture.Url], stdout, stderr, _ => null);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private Task<JsonElement> WaitForTopicAsync(string topic, Func<JsonElement, bool> condition) =>
        Eventually.ReadsAsync(async () =>
        {
            var (code, output, error) = await Mlops("topics", "describe", topic, "--output", "json");
            Assert.True(code == 0, error);
            return JsonDocument.Parse(output).RootElement.Clone();
        }, condition, $"{topic} reaches the expected state", TimeSpan.FromSeconds(60), detail => detail.GetRawText());
}
