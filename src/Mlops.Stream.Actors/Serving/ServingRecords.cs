using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Actors.Serving;

/// <summary>Kafka header names written by the serving pipeline (one place).</summary>
public static class ServingHeaders
{
    public const string RequestId = "mlops-request-id";
    public const string ModelVersion = "mlops-model-version";
    public const string Error = "mlops-error";
    public const string ErrorCode = "mlops-error-code";
    public const string SourceTopic = "mlops-source-topic";
    public const string SourcePartition = "mlops-source-partition";
    public const string SourceOffset = "mlops-source-offset";
    /// <summary>Which replica answered a request record, and under which assignment of its partition (see <see cref="Duplicates.AnswerTags"/>).</summary>
    public const string AnsweredBy = "mlops-answered-by";

    /// <summary>The last header of that name as text; null when absent or when its value is null (Kafka allows both).</summary>
    public static string? Read(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var bytes) && bytes is not null ? Encoding.UTF8.GetString(bytes) : null;
}

/// <summary>Where one served request came from: a Kafka record, or an HTTP call (no partition/offset).</summary>
public readonly record struct RequestSource(string Kind, DateTimeOffset RequestTimestamp, int? Partition, long? Offset);

/// <summary>
/// Encodes what the serving pipeline writes: the v2 response (prediction), the served event read
/// by drift jobs, and their headers (dead letters: <see cref="DeadLetters"/>). Values are UTF-8 JSON written with
/// <see cref="Utf8JsonWriter"/>, no reflection, because this runs once per request.
/// </summary>
public static class ServingRecords
{
    public static byte[] Prediction(string model, int version, InferenceRequest request, IReadOnlyList<Tensor> outputs) =>
        InferenceCodec.EncodeResponse(Response(model, version, request, outputs));

    /// <summary>The v2 response a prediction carries, whatever its encoding (<see cref="RequestRecordCodec"/>).</summary>
    public static InferenceResponse Response(string model, int version, InferenceRequest request, IReadOnlyList<Tensor> outputs) =>
        new(request.Id, model, version.ToString(CultureInfo.InvariantCulture), outputs);

    /// <summary>The served event: request id, model, version, source (kafka or http), inputs, outputs, timestamps, timings, batch size, source partition and offset.</summary>
    public static byte[] ServedEvent(string model, InferenceRequest request, BatchResult result, RequestSource source, DateTimeOffset servedAt)
    {
        var timings = result.Timings!;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", request.Id);
            writer.WriteString("model", model);
            writer.WriteString("version", result.ModelVersion.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("source", source.Kind);
            WriteTensors(writer, "inputs", request.Inputs);
            WriteTensors(writer, "outputs", result.Outputs!);
            writer.WriteString("request_timestamp", source.RequestTimestamp.UtcDateTime);
            writer.WriteString("served_timestamp", servedAt.UtcDateTime);
            writer.WriteNumber("queue_ms", timings.QueueTime.TotalMilliseconds);
            writer.WriteNumber("inference_ms", timings.InferenceTime.TotalMilliseconds);
            writer.WriteNumber("batch_size", timings.BatchSize);
            if (source.Partition is { } partition) writer.WriteNumber("source_partition", partition);
            else writer.WriteNull("source_partition");
            if (source.Offset is { } offset) writer.WriteNumber("source_offset", offset);
            else writer.WriteNull("source_offset");
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static Headers OutputHeaders(string requestId, int version) => new()
    {
        { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(requestId) },
        { ServingHeaders.ModelVersion, Encoding.UTF8.GetBytes(version.ToString(CultureInfo.InvariantCulture)) },
    };

    /// <summary>
    /// The headers of a Kafka request's prediction and served event: besides the id and version,
    /// the request record they answer and who answered it, so the partition's next owner can tell
    /// which records it is about to answer a second time (<see cref="Duplicates.DuplicateLedger"/>).
    /// </summary>
    public static Headers KafkaOutputHeaders(string requestId, int version, int partition, long offset, string answeredBy)
    {
        var headers = OutputHeaders(requestId, version);
        AddAnswerHeaders(headers, partition, offset, answeredBy);
        return headers;
    }

    /// <summary>A Kafka prediction's headers: <see cref="KafkaOutputHeaders"/> and the <c>content-type</c> of its value (JSON or protobuf, see <see cref="RecordContentTypes"/>).</summary>
    public static Headers KafkaPredictionHeaders(string requestId, int version, int partition, long offset, string answeredBy, string contentType)
    {
        var headers = KafkaOutputHeaders(requestId, version, partition, offset, answeredBy);
        headers.Add(RecordContentTypes.ContentTypeHeader, Encoding.UTF8.GetBytes(contentType));
        return headers;
    }

    /// <summary>The source partition and offset of the answered request record, and who answered it.</summary>
    public static void AddAnswerHeaders(Headers headers, int partition, long offset, string answeredBy)
    {
        headers.Add(ServingHeaders.SourcePartition, Encoding.UTF8.GetBytes(partition.ToString(CultureInfo.InvariantCulture)));
        headers.Add(ServingHeaders.SourceOffset, Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));
        headers.Add(ServingHeaders.AnsweredBy, Encoding.UTF8.GetBytes(answeredBy));
    }

    private static void WriteTensors(Utf8JsonWriter writer, string name, IReadOnlyList<Tensor> tensors)
    {
        writer.WriteStartArray(name);
        foreach (var tensor in tensors) MessageWriters.WriteTensor(writer, tensor);
        writer.WriteEndArray();
    }
}
