using Mlops.Stream.Kafka;
using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Writes the served events of HTTP inferences to their model's served topic, so drift jobs and
/// audits see HTTP traffic as they see Kafka traffic. It never fails or slows an HTTP answer: the
/// answer path only offers the event to a bounded queue; one background loop encodes and hands
/// events to a producer whose own queue and delivery time are bounded too. When either bound is
/// reached (Kafka slower than HTTP, or unavailable) events are dropped and counted in
/// <c>mlops_served_events_dropped_total</c>, never buffered without bound. Unlike the Kafka path
/// (at-least-once, committed only after its served event is written), this is best effort.
/// One per node, shared by its replicas; owns its producer.
/// </summary>
public sealed class HttpServedEvents : IAsyncDisposable
{
    /// <summary>Events waiting to be encoded and handed to the producer.</summary>
    public const int QueueCapacity = 10_000;

    /// <summary>How long the producer tries to deliver an event before dropping it (a Kafka outage).</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(30);

    private sealed record Event(string Model, string Topic, InferenceRequest Request, BatchResult Result, DateTimeOffset ReceivedAt, DateTimeOffset ServedAt);

    private readonly Channel<Event> _queue;
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Task _loop;

    /// <param name="queueCapacity">Bound of the queue and of the producer's own queue (each).</param>
    /// <param name="deliveryTimeout">How long an event may wait for Kafka; default <see cref="DeliveryTimeout"/>.</param>
    public HttpServedEvents(string bootstrapServers, IReadOnlyDictionary<string, string> producerProperties, ServingMetrics metrics, ILogger logger,
        int queueCapacity = QueueCapacity, TimeSpan? deliveryTimeout = null)
    {
        _queue = Channel.CreateBounded<Event>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,   // TryWrite then refuses, so the drop is seen and counted
        });
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 5,
            MessageTimeoutMs = (int)(deliveryTimeout ?? DeliveryTimeout).TotalMilliseconds,
            QueueBufferingMaxMessages = queueCapacity,
            DeliveryReportFields = "status",
        };
        foreach (var (key, value) in producerProperties) config.Set(key, value);
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, message) => LibrdkafkaLog.Write(message)).Build();
        _metrics = metrics;
        _logger = logger;
        _loop = Task.Run(ProduceAsync);
    }

    public const string QueueFull = "queue_full";
    public const string KafkaError = "kafka_error";

    /// <summary>Offers one served HTTP inference's event; returns at once whatever happens to it.</summary>
    public void Publish(string model, string topic, InferenceRequest request, BatchResult result, DateTimeOffset receivedAt, DateTimeOffset servedAt)
    {
        if (!_queue.Writer.TryWrite(new Event(model, topic, request, result, receivedAt, servedAt)))
            _metrics.CountServedEventDropped(model, QueueFull);
    }

    private async Task ProduceAsync()
    {
        await foreach (var e in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var source = new RequestSource(RequestSources.Http, e.ReceivedAt, null, null);
                var message = new Message<byte[]?, byte[]?>
                {
                    Key = Encoding.UTF8.GetBytes(e.Request.Id),
                    Value = ServingRecords.ServedEvent(e.Model, e.Request, e.Result, source, e.ServedAt),
                    Headers = ServingRecords.OutputHeaders(e.Request.Id, e.Result.ModelVersion),
                };
                _producer.Produce(e.Topic, message, report =>
                {
                    if (report.Error.IsError) Dropped(e.Model, KafkaError, report.Error.Reason);
                });
            }
            catch (ProduceException<byte[]?, byte[]?> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
            {
                _metrics.CountServedEventDropped(e.Model, QueueFull);
            }
            catch (Exception error)
            {
                Dropped(e.Model, KafkaError, error.Message);
            }
        }
    }

    private void Dropped(string model, string reason, string detail)
    {
        _metrics.CountServedEventDropped(model, reason);
        _logger.LogDebug("An HTTP served event of {Model} was dropped ({Reason}: {Detail})", model, reason, detail);
    }

    /// <summary>Stops taking events, hands over what is queued, and gives the producer a few seconds to deliver it.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await Task.Run(() => _producer.Flush(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        _producer.Dispose();
    }
}
