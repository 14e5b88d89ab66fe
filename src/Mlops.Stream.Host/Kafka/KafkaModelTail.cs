using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Tails of a model's output topics for <c>/api/v1/models/{model}/tail/...</c>. Each tail is a
/// consumer of its own that is assigned every partition at a fixed position and never joins a group
/// or commits, so tails cannot rebalance or move the offsets of the consumers that serve.
/// </summary>
public sealed class KafkaModelTail(KafkaAdminReader broker, KafkaClientConfigs configs, TopicCatalog catalog, ILogger<KafkaModelTail> logger)
    : IModelTopicTail
{
    public async Task<ITailSession?> OpenAsync(string model, ModelStream stream, TailStart from, CancellationToken cancellationToken)
    {
        var topic = catalog[FamilyOf(stream)].TopicFor(model);
        if (!(await broker.TopicsAsync(cancellationToken)).TryGetValue(topic, out var ids)) return null;
        var partitions = ids.Select(id => new TopicPartition(topic, id)).ToList();

        // "end" is resolved to concrete offsets now, before the caller gets an answer: a consumer
        // assigned at Offset.End resolves it later, and would miss what is written meanwhile.
        var positions = from == TailStart.End
            ? (await broker.OffsetsAsync(partitions, OffsetSpec.Latest())).Select(e => new TopicPartitionOffset(e.Key, e.Value)).ToList()
            : partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)).ToList();

        var consumer = new ConsumerBuilder<byte[]?, byte[]?>(configs.ReadOnlyConsumer($"mlops-tail-{Guid.NewGuid():N}"))
            .SetErrorHandler((_, error) => logger.LogDebug("Tail of {Topic}: librdkafka error {Code}: {Reason}", topic, error.Code, error.Reason))
            .SetLogHandler((_, message) => logger.LogDebug("Tail of {Topic}: librdkafka {Facility}: {Message}", topic, message.Facility, message.Message))
            .Build();
        consumer.Assign(positions);
        return new Session(consumer, topic);
    }

    private static string FamilyOf(ModelStream stream) => stream switch
    {
        ModelStream.Predictions => TopicFamilies.Predictions,
        ModelStream.Served => TopicFamilies.Served,
        ModelStream.DeadLetters => TopicFamilies.DeadLetters,
        _ => throw new ArgumentOutOfRangeException(nameof(stream), stream, null),
    };

    /// <summary>
    /// Owns the consumer, which one dedicated thread polls: a poll blocks, and blocking pool threads
    /// (one per open tail) starves the node's actors and HTTP. Records wait in a small bounded
    /// channel; when the HTTP client reads slowly the poller waits, and librdkafka's own prefetch is
    /// capped by <c>queued.max.messages.kbytes</c>, so nothing buffers without bound.
    /// </summary>
    private sealed class Session : ITailSession
    {
        private const int Buffered = 16;

        private readonly IConsumer<byte[]?, byte[]?> _consumer;
        private readonly Channel<TailedRecord> _records = Channel.CreateBounded<TailedRecord>(
            new BoundedChannelOptions(Buffered) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _poller;
        private BrokerUnavailableException? _failure;

        public Session(IConsumer<byte[]?, byte[]?> consumer, string topic)
        {
            _consumer = consumer;
            Topic = topic;
            _poller = Task.Factory.StartNew(Poll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        public string Topic { get; }

        public async ValueTask<TailedRecord> NextAsync(CancellationToken cancellationToken)
        {
            if (!await _records.Reader.WaitToReadAsync(cancellationToken))
                throw _failure ?? new BrokerUnavailableException($"the tail of {Topic} stopped");
            return await _records.Reader.ReadAsync(cancellationToken);
        }

        private void Poll()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var result = _consumer.Consume(_stop.Token);
                    if (result?.Message is null) continue;
                    // Blocks this dedicated thread, never a pool thread, until the reader makes room.
                    _records.Writer.WriteAsync(ToRecord(result), _stop.Token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
            catch (ConsumeException e)
            {
                _failure = new BrokerUnavailableException($"reading {Topic} failed: {e.Error.Reason}", e);
            }
            finally
            {
                _records.Writer.TryComplete();
                // Close leaves no group (it joined none) and commits nothing; it only shuts the client down.
                _consumer.Close();
                _consumer.Dispose();
            }
        }

        private static TailedRecord ToRecord(ConsumeResult<byte[]?, byte[]?> result)
        {
            var message = result.Message;
            return new TailedRecord(
                result.Topic,
                result.Partition.Value,
                result.Offset.Value,
                message.Timestamp.UtcDateTime,
                message.Key is null ? null : Encoding.UTF8.GetString(message.Key),
                message.Headers is null ? [] : [.. message.Headers.Select(h => KeyValuePair.Create(h.Key, Encoding.UTF8.GetString(h.GetValueBytes() ?? [])))],
                message.Value);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _poller;
            _stop.Dispose();
        }
    }
}
