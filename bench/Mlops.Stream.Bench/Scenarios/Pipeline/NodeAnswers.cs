using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Serving.Duplicates;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The two records the node writes for a served Kafka request (prediction and served event, with
/// the node's headers), made with the node's own encoders, so the loops compared with the node
/// write the same bytes.
/// </summary>
public sealed class NodeAnswers(string model)
{
    public const int Version = 1;

    private readonly AnswerTags _answeredBy = new($"{model}#0");

    public string Model { get; } = model;

    public (byte[] Prediction, byte[] Served, Headers Headers) For(InferenceRequest request, float[] probabilities, long[] labels,
        ConsumeResult<string, byte[]> record, TimeSpan inference)
    {
        var rows = labels.Length;
        IReadOnlyList<Tensor> outputs = [Tensor.Create("probabilities", probabilities, rows, 2), Tensor.Create("label", labels, rows)];
        var result = BatchResult.Served(outputs, Model, Version, new BatchTimings(TimeSpan.Zero, inference, 1, rows));
        var source = new RequestSource(RequestSources.Kafka, record.Message.Timestamp.UtcDateTime, record.Partition.Value, record.Offset.Value);
        return (ServingRecords.Prediction(Model, Version, request, outputs),
            ServingRecords.ServedEvent(Model, request, result, source, DateTimeOffset.UtcNow),
            ServingRecords.KafkaOutputHeaders(request.Id, Version, record.Partition.Value, record.Offset.Value, _answeredBy.For(1)));
    }

    /// <summary>A typical request's two records (the first of <paramref name="backlog"/>'s ids, offsets of its size), for loops that only move bytes.</summary>
    public (byte[] Prediction, byte[] Served, Headers Headers) Typical(RawModel onnx, RequestBacklog backlog)
    {
        var id = $"{backlog.Run}-{backlog.Requests / 2}";
        var request = InferenceCodec.DecodeRequest(Cluster.DemoRequests.Body(id));
        var (probabilities, labels) = onnx.Run(request.Inputs[0].Span<float>().ToArray(), 1);
        var record = new ConsumeResult<string, byte[]>
        {
            TopicPartitionOffset = new TopicPartitionOffset(backlog.Topic, 0, backlog.Partitions.Values.Max(p => p.End)),
            Message = Cluster.DemoRequests.Record(id),
        };
        record.Message.Timestamp = new Timestamp(DateTime.UtcNow);
        return For(request, probabilities, labels, record, TimeSpan.FromMilliseconds(0.05));
    }
}
