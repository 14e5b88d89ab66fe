using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// One model's drift job as a Kafka stream, at least once: served events and feedback labels (one
/// consumer, group <c>mlops-drift.&lt;model&gt;</c>, on both topics) → <see cref="DriftEvaluator{TOffset}"/>
/// → one record per closed window on the drift topic → the offsets of the window's events and
/// labels committed once that record is acknowledged. A record is committed only with the window
/// that used it (or at once when it is skipped as bad or given up on), so a job that stops or fails
/// before writing a window reads its events and labels again. The committer commits each partition
/// up to its first unfinished record, so records finishing out of order are safe.
/// Backpressure end to end: the consumer pauses when the producer or the evaluation lags, and memory
/// is bounded by the open windows (at most their count of events each), the feedback join
/// (<see cref="DriftJobSettings.Feedback"/>) and the consumer's buffer.
/// </summary>
public sealed class DriftPipeline(
    string model,
    DriftTopics topics,
    DriftKafkaSettings kafka,
    DriftJobSettings settings,
    VersionReferences references,
    BadServedEvents bad,
    DriftMetrics metrics,
    ILogger logger,
    TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Told of every published window, to alert when a version starts or stops drifting; null: no alerts.</summary>
    public DriftAlerts? Alerts { get; init; }

    /// <summary>Told of every published window, to withdraw a canary that drifts (when enabled for the model); null: never.</summary>
    public DriftCanaryGuard? CanaryGuard { get; init; }

    /// <summary>Each version's prediction baseline; the job passes its own so baselines outlive a run of the stream.</summary>
    public PredictionBaselines Baselines { get; init; } = new();

    /// <summary>What travels beside a window record (or a skipped event) to the committer.</summary>
    private sealed record Commit(IReadOnlyList<CommittableOffset> Offsets, DriftWindowReport? Window);

    /// <summary>An element of the evaluation stage: a served-events record, or the stream having been idle.</summary>
    private abstract record Input
    {
        public sealed record Record(ConsumeResult<byte[]?, byte[]?> Consumed, CommittableOffset Offset) : Input;

        public sealed record Idle : Input
        {
            public static readonly Idle Instance = new();
        }
    }

    public DrainingControl<Done> Run(IMaterializer materializer)
    {
        var consumer = ConsumerSettings<byte[]?, byte[]?>.Create(kafka.BootstrapServers, DriftTopics.ConsumerGroup(model))
            .WithProperties(kafka.ConsumerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"drift:{model}");
        var producer = ProducerSettings<byte[]?, byte[]?>.Create(kafka.BootstrapServers)
            .WithProperties(kafka.ProducerProperties)
            .WithHealth(kafka.Health)
            .WithClientName($"drift-producer:{model}");
        // Fresh per run: what an earlier run held in open windows was never committed and comes again.
        var evaluator = new DriftEvaluator<CommittableOffset>(model, references, settings, bad, metrics, Baselines);

        var steps = KafkaConsumer.SourceWithOffsetContext(consumer, Subscriptions.Topics(topics.Served, topics.Feedback))
            .AsSource()
            .Select(Input (pair) => new Input.Record(pair.Item1, pair.Item2))
            // No record for a while: caught up, so the clock may close quiet windows.
            .KeepAlive(settings.IdleTick, () => (Input)Input.Idle.Instance)
            .SelectAsync(1, input => input switch
            {
                Input.Record { Consumed.Topic: var topic } label when topic == topics.Feedback => Task.FromResult(evaluator.AddFeedback(
                    label.Consumed.Message.Value, label.Consumed.Partition.Value, label.Consumed.Offset.Value, label.Offset, _clock.GetUtcNow())),
                Input.Record record => evaluator.AddAsync(
                    record.Consumed.Message.Value, record.Consumed.Partition.Value, record.Consumed.Offset.Value, record.Offset, _clock.GetUtcNow()),
                _ => Task.FromResult(evaluator.Idle(_clock.GetUtcNow())),
            })
            .SelectMany(Envelopes);
        return SourceWithContext.FromTuples(steps)
            .Via(KafkaProducer.FlexiFlowWithContext<byte[]?, byte[]?, Commit>(producer))
            .AsSource()
            .SelectMany(acknowledged =>
            {
                // The window is on the drift topic: show it, then let its events be committed.
                var (results, commit) = acknowledged;
                if (commit.Window is { } window) Published(window);
                return commit.Offsets.Select(offset => (results, offset));
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<byte[]?, byte[]?>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(materializer);
    }

    /// <summary>One envelope per closed window, and a pass-through per skipped event so its offset is committed in turn.</summary>
    private IEnumerable<(ProducerEnvelope<byte[]?, byte[]?>, Commit)> Envelopes(DriftStep<CommittableOffset> step)
    {
        foreach (var closed in step.Closed)
        {
            yield return (ProducerMessage.Single(DriftRecords.Window(topics.Drift, closed.Report)), new Commit(closed.Offsets, closed.Report));
        }

        foreach (var skipped in step.Skipped)
        {
            yield return (ProducerMessage.PassThrough<byte[]?, byte[]?>(), new Commit([skipped], null));
        }
    }

    private void Published(DriftWindowReport window)
    {
        metrics.RecordWindow(window);
        Alerts?.Observe(window);
        CanaryGuard?.Observe(window);
        if (window.Dataset.Drifted)
        {
            logger.LogWarning(
                "Drift detected: {Model} version {Version}, window {Start:O} to {End:O} ({Events} events): {Drifted} of {Evaluated} features drifted ({Features})",
                window.Model, window.Version, window.Start, window.End, window.Events, window.Dataset.DriftedCount, window.Dataset.EvaluatedCount,
                string.Join(", ", window.Features.Where(f => f.Drifted).Select(f => f.Feature)));
        }
        else
        {
            logger.LogDebug("Drift window: {Model} version {Version}, {Events} events, {Verdict}", window.Model, window.Version, window.Events, window.Dataset.Verdict);
        }
    }
}
