using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Akka.Event;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving.Duplicates;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Serving;

/// <summary>The topics one model's serving reads and writes: requests, predictions, served events, dead letters (drift reads served events and writes its own topic, see <see cref="Drift.DriftTopics"/>).</summary>
public sealed record ModelTopics(string Requests, string Predictions, string Served, string DeadLetters)
{
    public static ModelTopics For(TopicCatalog catalog, string model) => new(
        catalog[TopicFamilies.Requests].TopicFor(model),
        catalog[TopicFamilies.Predictions].TopicFor(model),
        catalog[TopicFamilies.Served].TopicFor(model),
        catalog[TopicFamilies.DeadLetters].TopicFor(model));

    public static string ConsumerGroup(string model) => $"mlops-serve.{model}";
}

/// <summary>Kafka settings a replica's pipeline is built from.</summary>
public sealed record ServingKafkaSettings(
    string BootstrapServers,
    KafkaHealthMonitor Health,
    IReadOnlyDictionary<string, string> ConsumerProperties,
    IReadOnlyDictionary<string, string> ProducerProperties,
    /// <summary>Requests of one replica inside the batcher at once (SelectAsync parallelism; the node's <c>Inference:KafkaInFlight</c>).</summary>
    int InFlight,
    /// <summary>At-least-once (default) or exactly-once (Kafka transactions; the node's <c>Kafka:Delivery</c>).</summary>
    KafkaDelivery Delivery = KafkaDelivery.AtLeastOnce);

/// <summary>How a replica's Kafka path delivers: see the README's Reliability section for what each costs.</summary>
public enum KafkaDelivery
{
    /// <summary>Outputs are produced, then the request's offset is committed: a crash in between answers a request again (counted as a duplicate).</summary>
    AtLeastOnce,
    /// <summary>
    /// Outputs and the request's offset are committed in one Kafka transaction per batch of records:
    /// readers with <c>isolation.level=read_committed</c> see every request answered exactly once.
    /// </summary>
    ExactlyOnce,
}

/// <summary>Thrown into the stream when the batcher stops under it: the stream fails and its uncommitted requests are redelivered.</summary>
public sealed class BatcherStoppedException(BatchRejection rejection) : Exception($"The batcher refused a request: {rejection}")
{
    public BatchRejection Rejection { get; } = rejection;
}

/// <summary>
/// One replica's at-least-once Kafka path: requests topic → decode → dynamic batcher → prediction
/// and served event (or a dead letter) → commit once every record the request produced is
/// acknowledged. Whatever a record holds — any key, any header bytes or none, a body that does not
/// decode, an id that makes its outputs too large for the broker — it ends as outputs or as a
/// dead letter with its original bytes and the reason; it never stops the stream. Only Kafka
/// itself (a dead-letter topic that refuses even a bare reference) or shutdown can.
/// </summary>
public sealed class ServingPipeline
{
    /// <summary>What travels beside a request to the committer: its offset and, once served, what the end-to-end latency needs.</summary>
    public sealed record InFlight(CommittableOffset Offset, int? Version = null, DateTime RequestTimestamp = default)
    {
        public override string ToString() => $"{Offset.TopicPartition.Topic} [{Offset.TopicPartition.Partition.Value}] @ {Offset.Offset}";
    }

    private readonly ReplicaInference _inference;
    private readonly string _model;
    private readonly ModelTopics _topics;
    private readonly ServingMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly AnswerTags _answeredBy;
    private readonly string _replica;
    private readonly ILoggingAdapter? _log;

    /// <param name="replica">The replica's entity id, written on every answer (<c>mlops-answered-by</c>); the model name when omitted.</param>
    public ServingPipeline(ReplicaInference inference, ModelTopics topics, TimeProvider? clock = null, string? replica = null, ILoggingAdapter? log = null)
    {
        _inference = inference;
        _model = inference.Model;
        _topics = topics;
        _metrics = inference.Metrics;
        _clock = clock ?? TimeProvider.System;
        _replica = replica ?? inference.Model;
        _answeredBy = new AnswerTags(_replica);
        _log = log;
    }

    /// <summary>
    /// Keys and values stay bytes end to end, so a prediction carries exactly its request's key,
    /// whatever encoding the producer used.
    /// </summary>
    public DrainingControl<Done> Run(ServingKafkaSettings kafka, IMaterializer materializer)
    {
        var consumer = ConsumerSettings<byte[]?, byte[]?>.Create(kafka.BootstrapServers, ModelTopics.ConsumerGroup(_model))
            .WithProperties(kafka.ConsumerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"serve:{_model}");
        var producer = ProducerSettings<byte[]?, byte[]?>.Create(kafka.BootstrapServers)
            .WithProperties(kafka.ProducerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"serve-producer:{_model}");

        var answerLog = new KafkaAnswerLog(KafkaAnswerLog.ReaderConfig(kafka.BootstrapServers, kafka.ConsumerProperties, _model),
            [_topics.Predictions, _topics.DeadLetters]);
        var duplicates = new DuplicateLedger(_answeredBy, answerLog, n => _metrics.CountDuplicates(_model, n),
            warning => _log?.Warning("{0}: {1}", _model, warning), _clock, checksChanged: n => _metrics.ChangeDuplicateChecks(_model, n));

        var exactlyOnce = kafka.Delivery == KafkaDelivery.ExactlyOnce;
        if (exactlyOnce)
        {
            consumer = consumer.WithTransactionalOffsets();
            producer = producer.WithTransactions(new TransactionSettings(TransactionalId(_model, _replica)));
        }
        var answering = exactlyOnce
            ? KafkaProducer.TransactionalFlowWithContext<byte[]?, byte[]?, InFlight>(producer, request => request.Offset)
            : KafkaProducer.FlexiFlowWithContext<byte[]?, byte[]?, InFlight>(producer);

        var handled = KafkaConsumer.SourceWithOffsetContext(consumer, Subscriptions.Topics(_topics.Requests))
            .AsSource()
            .SelectAsync(kafka.InFlight, async pair =>
            {
                var (record, offset) = pair;
                duplicates.Consumed(record.Partition.Value, offset.Epoch, record.Offset.Value, record.Message.Timestamp.UtcDateTime);
                return await HandleAsync(record, new InFlight(offset)).ConfigureAwait(false);
            });
        var control = SourceWithContext.FromTuples(handled)
            .Via(answering)
            .AsSource()
            .Select(acknowledged =>
            {
                // Acknowledged by the broker (and next in line to commit): the request's end of the road.
                var (results, request) = acknowledged;
                // A refused output became a dead letter here; a refused dead letter was counted when it was made.
                foreach (var refusal in results.Refusals.Where(r => r.Topic != _topics.DeadLetters))
                    _metrics.CountDeadLetter(_model, DeadLetters.OutputRefusedCode);
                if (request.Version is { } version && results.Refusals.Count == 0)
                    _metrics.ObserveEndToEnd(_model, version, _clock.GetUtcNow().UtcDateTime - request.RequestTimestamp);
                var offset = request.Offset;
                duplicates.Answered(offset.TopicPartition.Partition.Value, offset.Epoch, offset.Offset);
                return (results, offset);
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<byte[]?, byte[]?>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(materializer);
        control.StreamCompletion.ContinueWith(_ => duplicates.Dispose(), TaskScheduler.Default);
        return control;
    }

    /// <summary>
    /// One transactional id per replica: the replica's next incarnation (after a crash, or on another
    /// node after a failover) starts a producer with the same id, which fences the old one and aborts
    /// what it left open. Which partitions it may commit for is fenced by the group generation its
    /// consumer sends with the offsets.
    /// </summary>
    public static string TransactionalId(string model, string replica) => $"{ModelTopics.ConsumerGroup(model)}.{replica}";

    /// <summary>
    /// Decodes, batches and answers one request record. Anything unexpected while doing so makes
    /// the record a dead letter (code <c>internal_error</c>) rather than a stream failure that would
    /// meet the same record again after every restart.
    /// </summary>
    public async Task<(ProducerEnvelope<byte[]?, byte[]?>, InFlight)> HandleAsync(ConsumeResult<byte[]?, byte[]?> record, InFlight context)
    {
        var letters = new DeadLetters(_model, _topics, record, _answeredBy.For(context.Offset.Epoch));
        try
        {
            return await ServeAsync(record, letters, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not BatcherStoppedException)
        {
            return DeadLetter(letters, context, new RequestRefusal(DeadLetters.InternalErrorCode, $"The request could not be handled: {e.Message}"));
        }
    }

    private async Task<(ProducerEnvelope<byte[]?, byte[]?>, InFlight)> ServeAsync(ConsumeResult<byte[]?, byte[]?> record, DeadLetters letters, InFlight context)
    {
        var message = record.Message;
        // JSON unless the record's content-type header says protobuf; the prediction answers in kind unless its accept header asks otherwise.
        if (!RequestRecordCodec.TryFor(message.Headers, out var codec, out var unsupported))
            return DeadLetter(letters, context, unsupported);
        if (!codec.TryDecode(message.Value, out var request, out var undecodable))
            return DeadLetter(letters, context, undecodable);

        var result = await _inference.RunAsync(request).ConfigureAwait(false);
        if (result.IsServed)
        {
            _metrics.CountRequest(_model, result.ModelVersion, RequestSources.Kafka, RequestOutcomes.Success);
            var source = new RequestSource(RequestSources.Kafka, message.Timestamp.UtcDateTime, record.Partition.Value, record.Offset.Value);
            var answeredBy = _answeredBy.For(context.Offset.Epoch);
            var headers = ServingRecords.KafkaOutputHeaders(request.Id, result.ModelVersion, record.Partition.Value, record.Offset.Value, answeredBy);
            var predictionHeaders = ServingRecords.KafkaPredictionHeaders(request.Id, result.ModelVersion, record.Partition.Value, record.Offset.Value,
                answeredBy, codec.AnswerContentType);
            return (ProducerMessage.Multi(new[]
            {
                new ProducerRecord<byte[]?, byte[]?>(_topics.Predictions, message.Key,
                    codec.EncodePrediction(_model, result.ModelVersion, request, result.Outputs!), predictionHeaders)
                {
                    Fallback = error => letters.OutputRefused("prediction", _topics.Predictions, error, request.Id),
                },
                new ProducerRecord<byte[]?, byte[]?>(_topics.Served, message.Key,
                    ServingRecords.ServedEvent(_model, request, result, source, _clock.GetUtcNow()), headers)
                {
                    Fallback = error => letters.OutputRefused("served event", _topics.Served, error, request.Id),
                },
            }), context with { Version = result.ModelVersion, RequestTimestamp = message.Timestamp.UtcDateTime });
        }
        if (result.Error is { } invalid)
            return DeadLetter(letters, context, new RequestRefusal(invalid.WireCode, invalid.Message, result.ModelVersion, request.Id));
        var rejection = result.Rejection!;
        if (rejection.Reason == BatchRejectionReason.ModelFailed)
            return DeadLetter(letters, context, new RequestRefusal(rejection.WireCode, rejection.Message, result.ModelVersion, request.Id));
        // Shutting down: fail the stream instead of committing a request nobody served (it is redelivered).
        _metrics.CountRequest(_model, result.ModelVersion, RequestSources.Kafka, RequestOutcomes.Rejected);
        throw new BatcherStoppedException(rejection);
    }

    private (ProducerEnvelope<byte[]?, byte[]?>, InFlight) DeadLetter(DeadLetters letters, InFlight context, RequestRefusal refusal)
    {
        _metrics.CountRequest(_model, refusal.Version, RequestSources.Kafka, RequestOutcomes.DeadLettered);
        _metrics.CountDeadLetter(_model, refusal.Code);
        return (ProducerMessage.Single(letters.Refused(refusal.Code, refusal.Reason, refusal.RequestId)), context);
    }

    /// <summary>
    /// A human-readable account of why the stream failed, naming the record when the failure came
    /// from one (so an operator can find it: topic, partition, offset).
    /// </summary>
    public static string DescribeFailure(Exception? cause) => cause switch
    {
        null => "completed",
        ProducerDeliveryException { Context: InFlight request } e => $"{e.Message} (while answering request record {request})",
        _ => cause.Message,
    };
}
