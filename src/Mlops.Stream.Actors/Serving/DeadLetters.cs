using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Kafka.Dsl;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// The dead letters of one request record. A dead letter keeps the request's key, value and
/// headers as they came, adds why it was refused and where it came from, and has a fallback of
/// its own: should Kafka refuse even it (a record near the size limit plus our headers), a bare
/// reference is written instead — no value, no original headers, just the reason and the source
/// topic, partition and offset — so the request is never silently lost and the stream never stops.
/// Every dead letter also says who wrote it (<paramref name="answeredBy"/>): it answers its request
/// record as a prediction would, so a later owner of the partition can count a second one as a duplicate.
/// </summary>
public sealed class DeadLetters(string model, ModelTopics topics, ConsumeResult<byte[]?, byte[]?> record, string answeredBy)
{
    /// <summary>A prediction or served event Kafka refused to take (too large, invalid).</summary>
    public const string OutputRefusedCode = "output_refused";

    /// <summary>The pipeline failed on the record in a way no request should cause: a defect of ours, reported with the record.</summary>
    public const string InternalErrorCode = "internal_error";

    /// <summary>The request itself was refused: it does not decode, validate, or run.</summary>
    public ProducerRecord<byte[]?, byte[]?> Refused(string code, string reason, string? requestId) =>
        new(topics.DeadLetters, record.Message.Key, record.Message.Value, Headers(code, reason, requestId))
        {
            Fallback = error => Reference(code, reason, error),
        };

    /// <summary>The request was served but its <paramref name="output"/> could not be written to <paramref name="topic"/>.</summary>
    public ProducerRecord<byte[]?, byte[]?> OutputRefused(string output, string topic, Error error, string requestId) =>
        Refused(OutputRefusedCode, $"Model '{model}' served the request, but Kafka refused its {output} for {topic}: {error.Reason}", requestId);

    private ProducerRecord<byte[]?, byte[]?> Reference(string code, string reason, Error error) =>
        new(topics.DeadLetters, null, null, SourceHeaders(code,
            $"{reason} The dead letter with the original record was refused too ({error.Reason}); the request is at its source topic, partition and offset."));

    /// <summary>The original headers (any bytes, null values included) plus the reason, the request id and the source.</summary>
    private Headers Headers(string code, string reason, string? requestId)
    {
        var headers = new Headers();
        var hasRequestId = false;
        if (record.Message.Headers is { } original)
            foreach (var header in original)
            {
                if (IsOurs(header.Key)) continue;
                hasRequestId |= header.Key == ServingHeaders.RequestId;
                headers.Add(header.Key, header.GetValueBytes());
            }
        if (requestId is not null && !hasRequestId) headers.Add(ServingHeaders.RequestId, Encoding.UTF8.GetBytes(requestId));
        foreach (var header in SourceHeaders(code, reason)) headers.Add(header.Key, header.GetValueBytes());
        return headers;
    }

    private Headers SourceHeaders(string code, string reason) => new()
    {
        { ServingHeaders.Error, Encoding.UTF8.GetBytes(reason) },
        { ServingHeaders.ErrorCode, Encoding.UTF8.GetBytes(code) },
        { ServingHeaders.SourceTopic, Encoding.UTF8.GetBytes(record.Topic) },
        { ServingHeaders.SourcePartition, Encoding.UTF8.GetBytes(record.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
        { ServingHeaders.SourceOffset, Encoding.UTF8.GetBytes(record.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        { ServingHeaders.AnsweredBy, Encoding.UTF8.GetBytes(answeredBy) },
    };

    /// <summary>Headers the dead letter writes itself: a request's own copies (say, of an earlier dead letter replayed) are replaced.</summary>
    private static bool IsOurs(string key) => key is ServingHeaders.Error or ServingHeaders.ErrorCode
        or ServingHeaders.SourceTopic or ServingHeaders.SourcePartition or ServingHeaders.SourceOffset or ServingHeaders.AnsweredBy;
}
