using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Actors.Batching;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Wire;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Serving;

/// <summary>The four topics of one model.</summary>
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
    /// <summary>Requests of one replica inside the batcher at once (SelectAsync parallelism).</summary>
    int InFlight = 256);

/// <summary>Thrown into the stream when the batcher stops under it: the stream fails and its uncommitted requests are redelivered.</summary>
public sealed class BatcherStoppedException(BatchRejection rejection) : Exception($"The batcher refused a request: {rejection}")
{
    public BatchRejection Rejection { get; } = rejection;
}

/// <summary>
/// One replica's at-least-once Kafka path: requests topic → decode → dynamic batcher → prediction
/// and served event (or a dead letter) → commit once every record the request produced is
/// acknowledged. A record that cannot be decoded or validated goes to the dead-letter topic with
/// its original bytes and headers and the reason; it never stops the stream.
/// </summary>
public static class ServingPipeline
{
    /// <summary>A served request's version and record timestamp, carried beside its offset to the acknowledgement, for the end-to-end latency.</summary>
    private sealed record Served(int Version, DateTime RequestTimestamp);

    public static DrainingControl<Done> Run(string model, ModelTopics topics, ReplicaRouter router, VersionStatistics statistics,
        ServingMetrics metrics, ServingKafkaSettings kafka, IMaterializer materializer, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var consumer = ConsumerSettings<string?, byte[]?>.Create(kafka.BootstrapServers, ModelTopics.ConsumerGroup(model))
            .WithProperties(kafka.ConsumerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"serve:{model}");
        var producer = ProducerSettings<string?, byte[]?>.Create(kafka.BootstrapServers)
            .WithProperties(kafka.ProducerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"serve-producer:{model}");

        var handled = KafkaConsumer.SourceWithOffsetContext(consumer, Subscriptions.Topics(topics.Requests))
            .AsSource()
            .SelectAsync(kafka.InFlight, async pair =>
            {
                var (envelope, served) = await Handle(model, topics, router, statistics, metrics, pair.Item1, clock).ConfigureAwait(false);
                return (envelope, (Offset: pair.Item2, Served: served));
            });
        return SourceWithContext.FromTuples(handled)
            .Via(KafkaProducer.FlexiFlowWithContext<string?, byte[]?, (CommittableOffset Offset, Served? Served)>(producer))
            .AsSource()
            .Select(acknowledged =>
            {
                // Acknowledged by the broker (and next in line to commit): the request's end of the road.
                if (acknowledged.Item2.Served is { } served)
                    metrics.ObserveEndToEnd(model, served.Version, clock.GetUtcNow().UtcDateTime - served.RequestTimestamp);
                return (acknowledged.Item1, acknowledged.Item2.Offset);
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string?, byte[]?>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(materializer);
    }

    private static async Task<(ProducerEnvelope<string?, byte[]?>, Served?)> Handle(string model, ModelTopics topics, ReplicaRouter router,
        VersionStatistics statistics, ServingMetrics metrics, ConsumeResult<string?, byte[]?> record, TimeProvider clock)
    {
        var message = record.Message;
        if (message.Value is not { Length: > 0 } body)
            return DeadLetter(model, topics, metrics, record, null, "invalid_json",
                "The record has no value; expected an Open Inference Protocol v2 request body.", null);
        if (!InferenceCodec.TryDecodeRequest(body, out var request, out var decodeError))
            return DeadLetter(model, topics, metrics, record, null, decodeError.WireCode, decodeError.Message,
                ServingHeaders.Read(message.Headers, ServingHeaders.RequestId));

        var result = await router.Route(request.Id).EnqueueAsync(request).ConfigureAwait(false);
        statistics.Record(result);
        metrics.ObserveQueueTime(model, result);
        if (result.IsServed)
        {
            metrics.CountRequest(model, result.ModelVersion, RequestSources.Kafka, RequestOutcomes.Success);
            var source = new RequestSource(message.Timestamp.UtcDateTime, record.Partition.Value, record.Offset.Value);
            var headers = ServingRecords.OutputHeaders(request.Id, result.ModelVersion);
            return (ProducerMessage.Multi(new[]
            {
                new ProducerRecord<string?, byte[]?>(topics.Predictions, message.Key,
                    ServingRecords.Prediction(model, result.ModelVersion, request, result.Outputs!), headers),
                new ProducerRecord<string?, byte[]?>(topics.Served, message.Key,
                    ServingRecords.ServedEvent(model, request, result, source, clock.GetUtcNow()), headers),
            }), new Served(result.ModelVersion, message.Timestamp.UtcDateTime));
        }
        if (result.Error is { } invalid)
            return DeadLetter(model, topics, metrics, record, result.ModelVersion, invalid.WireCode, invalid.Message, request.Id);
        var rejection = result.Rejection!;
        if (rejection.Reason == BatchRejectionReason.ModelFailed)
            return DeadLetter(model, topics, metrics, record, result.ModelVersion, rejection.WireCode, rejection.Message, request.Id);
        // Shutting down: fail the stream instead of committing a request nobody served (it is redelivered).
        metrics.CountRequest(model, result.ModelVersion, RequestSources.Kafka, RequestOutcomes.Rejected);
        throw new BatcherStoppedException(rejection);
    }

    private static (ProducerEnvelope<string?, byte[]?>, Served?) DeadLetter(string model, ModelTopics topics, ServingMetrics metrics,
        ConsumeResult<string?, byte[]?> record, int? version, string code, string reason, string? requestId)
    {
        metrics.CountRequest(model, version, RequestSources.Kafka, RequestOutcomes.DeadLettered);
        metrics.CountDeadLetter(model, code);
        return (ProducerMessage.Single(new ProducerRecord<string?, byte[]?>(topics.DeadLetters, record.Message.Key, record.Message.Value,
            ServingRecords.DeadLetterHeaders(record.Message.Headers, code, reason, requestId))), null);
    }
}
