using System.Globalization;
using System.Text;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>The delivery checker on made-up topic contents: each kind of fault it must find is found, and a clean run is clean.</summary>
public sealed class DeliveryCheckerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryChecker Checker = new(new SumOracle());

    [Fact]
    public void A_clean_run_counts_every_request_as_predicted_or_dead_lettered_and_finds_nothing_wrong()
    {
        var requests = new[] { Request(0, 0, "a"), Request(0, 1, "b"), Request(1, 0, "c"), Request(1, 1, "d") };
        var predictions = new[] { Prediction(requests[0], 0, 0, Start), Prediction(requests[1], 0, 1, Start.AddSeconds(1)), Prediction(requests[2], 1, 0, Start.AddSeconds(4)) };

        var report = Checker.Check(new ModelTopicContents(requests, predictions, [.. predictions.Select(ServedEventOf)],
            [Answer(requests[3], 0, 0, Encoding.UTF8.GetBytes("{}"), Start)]));

        Assert.Equal((4, 3, 1, 0, 0, 0, 0, TimeSpan.FromSeconds(3)),
            (report.Sent, report.Predicted, report.DeadLettered, report.Lost, report.Duplicated, report.Wrong, report.Reordered, report.LongestGap));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void A_request_with_no_answer_at_all_is_lost_and_named()
    {
        var requests = new[] { Request(0, 0, "a"), Request(0, 1, "b") };
        var report = Checker.Check(new ModelTopicContents(requests, [Prediction(requests[0], 0, 0, Start)], [], []));

        Assert.Equal(1, report.Lost);
        Assert.Contains(report.Problems, p => p.Contains("request b lost", StringComparison.Ordinal));
    }

    [Fact]
    public void A_request_answered_twice_is_one_duplicate_and_an_answer_to_a_request_sent_twice_is_not()
    {
        var requests = new[] { Request(0, 0, "a"), Request(0, 1, "b"), Request(0, 2, "b") };
        var predictions = new[]
        {
            Prediction(requests[0], 0, 0, Start), Prediction(requests[0], 0, 1, Start),
            Prediction(requests[1], 0, 2, Start), Prediction(requests[2], 0, 3, Start),
        };

        var report = Checker.Check(new ModelTopicContents(requests, predictions, [], []));

        Assert.Equal(1, report.Duplicated);
        Assert.Equal(2, report.Sent);
        Assert.Equal(0, report.Reordered);
    }

    [Fact]
    public void A_prediction_that_differs_from_the_direct_run_is_wrong()
    {
        var requests = new[] { Request(0, 0, "a"), Request(0, 1, "b") };
        var tampered = Answer(requests[1], 0, 1, Response("b", SumOracle.Score(1f)), Start);

        var report = Checker.Check(new ModelTopicContents(requests, [Prediction(requests[0], 0, 0, Start), tampered], [], []));

        Assert.Equal(1, report.Wrong);
        Assert.Contains(report.Problems, p => p.StartsWith("request b: score[0] = 1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_prediction_for_an_earlier_request_of_the_same_key_after_a_later_one_is_reordered()
    {
        var requests = new[] { Request(0, 0, "a", key: "card-1"), Request(0, 1, "b", key: "card-1"), Request(0, 2, "c", key: "card-2") };
        var predictions = new[] { Prediction(requests[1], 0, 0, Start), Prediction(requests[0], 0, 1, Start), Prediction(requests[2], 0, 2, Start) };

        var report = Checker.Check(new ModelTopicContents(requests, predictions, [], []));

        Assert.Equal(1, report.Reordered);
        Assert.Equal(0, report.Duplicated);
    }

    [Fact]
    public void What_the_broker_dropped_is_reported_and_an_answer_to_a_dropped_request_is_not_wrong()
    {
        // Partition 0 starts at offset 2: the broker dropped offsets 0 and 1 (its log cap) after request 1 was answered.
        var dropped = Request(0, 1, "a");
        var kept = new[] { Request(0, 2, "b"), Request(0, 3, "c") };
        var predictions = new[] { Prediction(dropped, 0, 0, Start), Prediction(kept[0], 0, 1, Start), Prediction(kept[1], 0, 2, Start) };

        var report = Checker.Check(new ModelTopicContents(kept, predictions, [], [])
        {
            DroppedByBroker = new Dictionary<string, long> { ["requests"] = 2 },
            RequestLogStarts = new Dictionary<int, long> { [0] = 2 },
        });

        Assert.Equal((2, 2, 0, 0), (report.Sent, report.Predicted, report.Lost, report.Wrong));
        Assert.Equal(2, report.DroppedByBroker["requests"]);
        Assert.StartsWith("the broker dropped records from the start of requests (2)", report.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void An_answer_to_no_request_is_still_wrong_where_the_broker_dropped_nothing()
    {
        var answered = Request(0, 1, "a");
        var report = Checker.Check(new ModelTopicContents([Request(0, 2, "b")], [Prediction(answered, 0, 0, Start)], [], []));

        Assert.Equal(1, report.Wrong);
        Assert.Empty(report.DroppedByBroker);
    }

    [Fact]
    public async Task With_the_registry_oracle_a_prediction_is_checked_against_onnx_runtime()
    {
        using var folder = new TempDirectory("mlops-checker-registry-");
        var registry = new FolderModelRegistry(folder.Path);
        await DemoModelBuilder.CreateAsync(registry);
        using var oracle = new RegistryOracle(registry);
        var request = Request(0, 0, "a");
        var outputs = oracle.Predict(DemoModelBuilder.DefaultModelName, 1, InferenceCodec.DecodeRequest(request.Value!));
        var probabilities = outputs.Single(t => t.Name == "probabilities").Span<float>().ToArray();
        var skewed = outputs.Select(t => t.Name == "probabilities"
            ? Tensor.Create(t.Name, [probabilities[0] + 0.01f, probabilities[1] - 0.01f], 1, 2) : t).ToList();
        var checker = new DeliveryChecker(oracle);

        Assert.Equal(0, checker.Check(new ModelTopicContents([request], [Answer(request, 0, 0, Response("a", outputs, DemoModelBuilder.DefaultModelName), Start)], [], [])).Wrong);
        Assert.Equal(1, checker.Check(new ModelTopicContents([request], [Answer(request, 0, 0, Response("a", skewed, DemoModelBuilder.DefaultModelName), Start)], [], [])).Wrong);
    }

    private static TopicRecord Request(int partition, long offset, string id, string? key = null) =>
        new(partition, offset, Encoding.UTF8.GetBytes(key ?? id), DemoRequests.Body(id),
            new Dictionary<string, string> { [ServingHeaders.RequestId] = id }, Start);

    private static TopicRecord Prediction(TopicRecord request, int partition, long offset, DateTimeOffset at)
    {
        var id = request.Header(ServingHeaders.RequestId)!;
        return Answer(request, partition, offset, Response(id, SumOracle.Score(SumOracle.Sum(InferenceCodec.DecodeRequest(request.Value!)))), at);
    }

    private static TopicRecord ServedEventOf(TopicRecord prediction) => prediction with { Value = Encoding.UTF8.GetBytes("{}") };

    private static TopicRecord Answer(TopicRecord request, int partition, long offset, byte[] value, DateTimeOffset at) =>
        new(partition, offset, request.Key, value, new Dictionary<string, string>
        {
            [ServingHeaders.RequestId] = request.Header(ServingHeaders.RequestId)!,
            [ServingHeaders.SourcePartition] = request.Partition.ToString(CultureInfo.InvariantCulture),
            [ServingHeaders.SourceOffset] = request.Offset.ToString(CultureInfo.InvariantCulture),
            [ServingHeaders.AnsweredBy] = "m#0/test/1",
        }, at);

    private static byte[] Response(string id, IReadOnlyList<Tensor> outputs, string model = SumOracle.Model) =>
        InferenceCodec.EncodeResponse(new InferenceResponse(id, model, "1", outputs));

    /// <summary>A model whose one output is the sum of its input's elements.</summary>
    private sealed class SumOracle : IPredictionOracle
    {
        public const string Model = "sum";

        public static float Sum(InferenceRequest request) => request.Inputs.Single().Span<float>().ToArray().Sum();

        public static IReadOnlyList<Tensor> Score(float value) => [Tensor.Create("score", new[] { value }, 1, 1)];

        public IReadOnlyList<Tensor> Predict(string model, int version, InferenceRequest request) => Score(Sum(request));
    }
}
