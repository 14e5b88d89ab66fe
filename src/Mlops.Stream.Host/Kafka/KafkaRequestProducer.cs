using Mlops.Stream.Kafka;
using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Writes requests for <c>POST /api/v1/models/{model}/requests</c> as any producer of the request
/// topic should: key and <c>mlops-request-id</c> header = the request id, value = the v2 JSON; and
/// labels for <c>POST /api/v1/models/{model}/feedback</c> to the feedback topic the same way. One
/// producer for the node's lifetime (created at first use), so a batch's records share librdkafka's
/// batching; a batch is answered when every record is acknowledged or has failed.
/// </summary>
public sealed class KafkaRequestProducer(KafkaAdminReader broker, KafkaClientConfigs configs, TopicCatalog catalog, ILogger<KafkaRequestProducer> logger)
    : IRequestProducer, IFeedbackProducer, IDisposable
{
    private static readonly TimeSpan FlushOnDispose = TimeSpan.FromSeconds(5);

    private readonly Lazy<IProducer<string, byte[]>> _producer = new(() => new ProducerBuilder<string, byte[]>(configs.Producer())
        .SetErrorHandler((_, error) => logger.LogDebug("Request producer: librdkafka error {Code}: {Reason}", error.Code, error.Reason))
        .SetLogHandler((_, message) => LibrdkafkaLog.Write(message))
        .Build());

    public Task<ProduceOutcome> ProduceAsync(string model, IReadOnlyList<RequestRecord> requests, CancellationToken cancellationToken) =>
        ProduceToAsync(TopicFamilies.Requests, model, requests, cancellationToken);

    public Task<ProduceOutcome> ProduceFeedbackAsync(string model, IReadOnlyList<RequestRecord> labels, CancellationToken cancellationToken) =>
        ProduceToAsync(TopicFamilies.Feedback, model, labels, cancellationToken);

    private async Task<ProduceOutcome> ProduceToAsync(string family, string model, IReadOnlyList<RequestRecord> requests, CancellationToken cancellationToken)
    {
        var topic = catalog[family].TopicFor(model);
        // Producing to a missing topic would create it with the broker's defaults, not the family's.
        if (!await broker.ExistsAsync(topic, cancellationToken)) return new ProduceOutcome.TopicMissing(topic);

        var deliveries = requests.Select(r => ProduceOneAsync(topic, r, cancellationToken)).ToArray();
        try
        {
            return new ProduceOutcome.Written(topic, await Task.WhenAll(deliveries));
        }
        catch (KafkaException e)
        {
            var failed = deliveries.Count(d => d.IsFaulted);
            return new ProduceOutcome.Failed(topic,
                $"{failed} of {requests.Count} records were not acknowledged by Kafka ({e.Error.Reason}); the others were written");
        }
    }

    private async Task<ProducedRequest> ProduceOneAsync(string topic, RequestRecord request, CancellationToken cancellationToken)
    {
        // Kafka timestamps are milliseconds: the value reported is the one stored.
        var createdAt = new Timestamp(DateTime.UtcNow, TimestampType.CreateTime);
        var delivery = await _producer.Value.ProduceAsync(topic, new Message<string, byte[]>
        {
            Key = request.Id,
            Value = request.Value,
            Headers = new Headers { { ServingHeaders.RequestId, Encoding.UTF8.GetBytes(request.Id) } },
            Timestamp = createdAt,
        }, cancellationToken);
        return new ProducedRequest(request.Id, delivery.Partition.Value, delivery.Offset.Value, RecordTimestamp(delivery, createdAt.UtcDateTime));
    }

    /// <summary>
    /// The timestamp consumers will see. A topic with <c>LogAppendTime</c> gets the broker's, which the
    /// acknowledgement carries; otherwise it is the CreateTime set here. The embedded broker stores the
    /// CreateTime but acknowledges with a made-up LogAppendTime (1970-01-01T00:00:01.234Z), so there
    /// only the CreateTime is true.
    /// </summary>
    private DateTimeOffset RecordTimestamp(DeliveryResult<string, byte[]> delivery, DateTime createdAt) =>
        delivery.Timestamp.Type == TimestampType.LogAppendTime && configs.Mode == KafkaMode.External
            ? delivery.Timestamp.UtcDateTime
            : createdAt;

    private int _disposed;

    /// <summary>Once: the container disposes it for each service it is registered as (requests and feedback).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1 || !_producer.IsValueCreated) return;
        _producer.Value.Flush(FlushOnDispose);
        _producer.Value.Dispose();
    }
}
