using System.Collections.Concurrent;
using System.Globalization;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Kafka.Dsl;
using Prometheus;

namespace Mlops.Stream.Actors.Metrics;

/// <summary>
/// The node's serving metrics, in one Prometheus registry per node (so several nodes in one test
/// process do not share counters). Events are recorded where they happen (the Kafka pipeline, the
/// HTTP edge, the batchers, the replicas); levels (queue depth, in-flight, lag) are sampled from
/// the live replicas at each scrape. Every series is labelled by model, and by version where one
/// version is concerned; the version label is empty when a request never reached a version.
/// </summary>
public sealed class ServingMetrics : IRequestCounter, IRollbackCounter
{
    /// <summary>0.5 ms to about 16 s: from one small batch on a CPU to a long queue.</summary>
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16);
    private static readonly double[] BatchSizeBuckets = Histogram.ExponentialBuckets(1, 2, 11);

    private readonly Counter _requests;
    private readonly Counter _deadLetters;
    private readonly Histogram _queueTime;
    private readonly Histogram _batchSize;
    private readonly Histogram _inferenceTime;
    private readonly Histogram _endToEnd;
    private readonly Gauge _loadSeconds;
    private readonly Gauge _warmUpSeconds;
    private readonly Counter _swaps;
    private readonly Counter _rollbacks;
    private readonly Counter _streamRestarts;
    private readonly Counter _servedEventsDropped;
    private readonly SampledGauge _queueDepth;
    private readonly SampledGauge _batchLimit;
    private readonly SampledGauge _inFlight;
    private readonly SampledGauge _kafkaInFlight;
    private readonly SampledGauge _consumerLag;
    private readonly SampledGauge _assignedPartitions;
    private readonly Counter _duplicates;
    private readonly Gauge _duplicateChecks;
    private readonly SampledGauge _pausedPartitions;
    private readonly ConcurrentDictionary<ReplicaGauges, byte> _replicas = new();
    private readonly Gauge _cacheLoaded;
    private readonly Gauge _cacheLoadedBytes;
    private readonly Gauge _cacheBudgetBytes;
    private readonly Counter _cacheLoads;
    private readonly Counter _cacheEvictions;
    private readonly Histogram _coldStart;
    private volatile ModelCache? _cache;

    public ServingMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _requests = factory.CreateCounter("mlops_requests_total",
            "Inference requests by what became of them (success, invalid, dead_lettered, rejected, failed, timed_out, cancelled) and where they came from (kafka, http).",
            "model", "version", "source", "outcome");
        _deadLetters = factory.CreateCounter("mlops_dead_letters_total",
            "Kafka requests written to the model's dead-letter topic, by error code (invalid_json, shape_mismatch, model_failed, ...).",
            "model", "code");
        _queueTime = factory.CreateHistogram("mlops_queue_time_seconds",
            "Time a request waited in the batcher's queue before its batch started (both sources).",
            ["model", "version"], new HistogramConfiguration { Buckets = LatencyBuckets });
        _batchSize = factory.CreateHistogram("mlops_batch_size",
            "Requests per batch run by the model.",
            ["model", "version"], new HistogramConfiguration { Buckets = BatchSizeBuckets });
        _inferenceTime = factory.CreateHistogram("mlops_inference_seconds",
            "Duration of one batch's model run.",
            ["model", "version"], new HistogramConfiguration { Buckets = LatencyBuckets });
        _endToEnd = factory.CreateHistogram("mlops_end_to_end_seconds",
            "Kafka path: from the request record's timestamp to the broker acknowledging its prediction and served event.",
            ["model", "version"], new HistogramConfiguration { Buckets = LatencyBuckets });
        _loadSeconds = factory.CreateGauge("mlops_model_load_seconds",
            "Time the last load of a version took: registry checks and ONNX Runtime session creation.", "model", "version");
        _warmUpSeconds = factory.CreateGauge("mlops_model_warmup_seconds",
            "Time the last warm-up of a version took (its sample request run once).", "model", "version");
        _swaps = factory.CreateCounter("mlops_model_swaps_total",
            "Production version changes attempted by a replica: succeeded, or refused (the old version kept serving).", "model", "result");
        _rollbacks = factory.CreateCounter("mlops_model_rollbacks_total",
            "Rollbacks: asked by an operator, or a canary withdrawn by the canary guard.", "model", "trigger");
        _streamRestarts = factory.CreateCounter("mlops_kafka_stream_restarts_total",
            "Times a replica's Kafka serving stream failed and was started again (the log names the cause and, when a record caused it, the record).",
            "model");
        _servedEventsDropped = factory.CreateCounter("mlops_served_events_dropped_total",
            "HTTP inferences whose served event was not written to the served topic: queue_full (Kafka slower than HTTP) or kafka_error (Kafka unavailable or refused it). The HTTP answers were not affected.",
            "model", "reason");
        _batchLimit = new SampledGauge(factory.CreateGauge("mlops_batch_limit_rows",
            "Most rows a version's next batch takes: its max batch size, or less while its latency objective holds the batch size back.", "model", "version"));
        _queueDepth = new SampledGauge(factory.CreateGauge("mlops_queue_depth",
            "Requests waiting in a version's batcher queue (pending, not yet in a batch).", "model", "version"));
        _inFlight = new SampledGauge(factory.CreateGauge("mlops_in_flight_requests",
            "Requests inside a version's batcher: queued, waiting for queue room, or in the running batch.", "model", "version"));
        _kafkaInFlight = new SampledGauge(factory.CreateGauge("mlops_kafka_in_flight_records",
            "Request records consumed from Kafka and not yet committed (in the stream, bounded by Inference:KafkaInFlight and the consumer buffer).", "model"));
        _consumerLag = new SampledGauge(factory.CreateGauge("mlops_consumer_lag_records",
            "Records of a request topic partition not yet committed by the serving group (end offset - committed offset), measured by this node's consumer.",
            "model", "topic", "partition"));
        _pausedPartitions = new SampledGauge(factory.CreateGauge("mlops_consumer_paused_partitions",
            "Request topic partitions paused because downstream is slower than the topic (backpressure).", "model"));
        _assignedPartitions = new SampledGauge(factory.CreateGauge("mlops_kafka_assigned_partitions",
            "Request topic partitions a replica consumes now (the serving group divides them among the model's replicas).", "model", "replica"));
        _duplicates = factory.CreateCounter("mlops_kafka_duplicates_total",
            "Request records this node answered (prediction or dead letter) that already had an answer on Kafka: redelivered after " +
            "their partition moved before the earlier answer was committed (a node killed, a rebalance). Summed over the nodes that " +
            "answered them, it equals the duplicate answers on the output topics.", "model");
        _duplicateChecks = factory.CreateGauge("mlops_kafka_duplicate_checks_open",
            "Request topic partitions whose earlier answers this node is still reading after taking them over: until it reaches 0, " +
            "mlops_kafka_duplicates_total may still grow for what was redelivered.", "model");
        _cacheLoaded = factory.CreateGauge("mlops_model_cache_loaded_models",
            "Models holding memory on this node: loaded, loading or still unloading (never above Inference:MaxLoadedModels).");
        _cacheLoadedBytes = factory.CreateGauge("mlops_model_cache_loaded_bytes",
            "Estimated bytes of the sessions counted by mlops_model_cache_loaded_models (2 x the ONNX file + 1 MiB each; never above Inference:ModelMemoryBudget).");
        _cacheBudgetBytes = factory.CreateGauge("mlops_model_cache_budget_bytes",
            "Inference:ModelMemoryBudget in bytes; 0 when no budget is set (every deployed model stays loaded).");
        _cacheLoads = factory.CreateCounter("mlops_model_cache_loads_total",
            "Production sessions loaded by the replicas of this node: at start, and on a request to an unloaded model (cold start).");
        _cacheEvictions = factory.CreateCounter("mlops_model_cache_evictions_total",
            "Idle models unloaded to make room in the memory budget for another (least recently used first, never pinned or busy ones).");
        _coldStart = factory.CreateHistogram("mlops_model_cold_start_seconds",
            "From the first request to an unloaded model to its session loaded and serving: waiting for room, registry checks, load and warm-up.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        registry.AddBeforeCollectCallback(SampleReplicas);
        registry.AddBeforeCollectCallback(SampleCache);
    }

    /// <summary>Metrics nobody exports: for replicas and tests built without a node.</summary>
    public static ServingMetrics Detached() => new(Prometheus.Metrics.NewCustomRegistry());

    public CollectorRegistry Registry { get; }

    public void CountRequest(string model, int? version, string source, string outcome) =>
        _requests.WithLabels(model, VersionLabel(version), source, outcome).Inc();

    public void CountDeadLetter(string model, string code) => _deadLetters.WithLabels(model, code).Inc();

    /// <summary>Queue time of a request that reached a batch, whatever its source.</summary>
    public void ObserveQueueTime(string model, BatchResult result)
    {
        if (result.Timings is { } timings)
            _queueTime.WithLabels(model, VersionLabel(result.ModelVersion)).Observe(timings.QueueTime.TotalSeconds);
    }

    /// <summary>The batcher's report hook: one observation per batch.</summary>
    public void ObserveBatch(string model, BatchReport report)
    {
        var version = VersionLabel(report.ModelVersion);
        _batchSize.WithLabels(model, version).Observe(report.BatchSize);
        _inferenceTime.WithLabels(model, version).Observe(report.InferenceTime.TotalSeconds);
    }

    public void ObserveEndToEnd(string model, int version, TimeSpan latency) =>
        _endToEnd.WithLabels(model, VersionLabel(version)).Observe(Math.Max(0, latency.TotalSeconds));

    public void ObserveLoad(string model, int version, TimeSpan load, TimeSpan warmUp)
    {
        _loadSeconds.WithLabels(model, VersionLabel(version)).Set(load.TotalSeconds);
        _warmUpSeconds.WithLabels(model, VersionLabel(version)).Set(warmUp.TotalSeconds);
    }

    public void CountSwap(string model, bool succeeded) => _swaps.WithLabels(model, succeeded ? "succeeded" : "refused").Inc();

    /// <summary><paramref name="trigger"/>: <c>operator</c> or <c>canary_guard</c>.</summary>
    public void CountRollback(string model, string trigger) => _rollbacks.WithLabels(model, trigger).Inc();

    public void CountStreamRestart(string model) => _streamRestarts.WithLabels(model).Inc();

    /// <summary>Answers to request records that had been answered before (see <see cref="Serving.Duplicates.DuplicateLedger"/>).</summary>
    public void CountDuplicates(string model, long count) => _duplicates.WithLabels(model).Inc(count);

    /// <summary>A partition's check for earlier answers opened (+1) or settled (-1).</summary>
    public void ChangeDuplicateChecks(string model, int change) => _duplicateChecks.WithLabels(model).Inc(change);

    /// <summary><paramref name="reason"/>: <c>queue_full</c> or <c>kafka_error</c>.</summary>
    public void CountServedEventDropped(string model, string reason) => _servedEventsDropped.WithLabels(model, reason).Inc();

    /// <summary>Samples the replica's levels at every scrape until the returned handle is disposed.</summary>
    /// <remarks>
    /// Also creates the replica's lifecycle counters at 0 (swaps, rollbacks, stream restarts), so
    /// they are exported from the start: Prometheus's <c>increase()</c> and alerts on them then see
    /// the first event, which a series born at 1 would hide.
    /// </remarks>
    public IDisposable Track(ReplicaGauges replica)
    {
        _swaps.WithLabels(replica.Model, "succeeded");
        _swaps.WithLabels(replica.Model, "refused");
        _rollbacks.WithLabels(replica.Model, "operator");
        _rollbacks.WithLabels(replica.Model, "canary_guard");
        _streamRestarts.WithLabels(replica.Model);
        _duplicates.WithLabels(replica.Model);
        _duplicateChecks.WithLabels(replica.Model);
        _replicas[replica] = 0;
        return new Untrack(() => _replicas.TryRemove(replica, out _));
    }

    private void SampleReplicas()
    {
        SampledGauge[] gauges = [_queueDepth, _batchLimit, _inFlight, _kafkaInFlight, _consumerLag, _pausedPartitions, _assignedPartitions];
        foreach (var gauge in gauges) gauge.BeginRound();
        foreach (var replica in _replicas.Keys)
        {
            var model = replica.Model;
            if (replica.Router is { } router)
            {
                foreach (var batcher in new[] { router.Production, router.CanaryBatcher })
                {
                    if (batcher is null) continue;
                    var counters = batcher.GetCounters();
                    var version = VersionLabel(batcher.Model.Version);
                    _queueDepth.Set(counters.QueueDepth, model, version);
                    _batchLimit.Set(counters.BatchLimit, model, version);
                    _inFlight.Set(counters.InFlight + counters.WaitingForRoom, model, version);
                }
            }
            if (replica.Consumer is { } consumer)
            {
                var metrics = consumer.Metrics;
                _kafkaInFlight.Set(metrics.InFlight, model);
                _pausedPartitions.Set(metrics.PausedPartitions.Count, model);
                _assignedPartitions.Set(metrics.AssignedPartitions.Count, model, replica.Replica);
                foreach (var (partition, lag) in metrics.Lag)
                    _consumerLag.Set(lag, model, partition.Topic, partition.Partition.Value.ToString(CultureInfo.InvariantCulture));
            }
        }
        foreach (var gauge in gauges) gauge.EndRound();
    }

    /// <summary>Samples <paramref name="cache"/> (the node's one model cache) at every scrape.</summary>
    public void TrackCache(ModelCache cache) => _cache = cache;

    public void ObserveColdStart(TimeSpan latency) => _coldStart.Observe(latency.TotalSeconds);

    private void SampleCache()
    {
        if (_cache is not { } cache) return;
        var summary = cache.Summary();
        _cacheLoaded.Set(summary.Reserved);
        _cacheLoadedBytes.Set(summary.ReservedBytes);
        _cacheBudgetBytes.Set(summary.BudgetBytes ?? 0);
        _cacheLoads.IncTo(summary.Loads);
        _cacheEvictions.IncTo(summary.Evictions);
    }

    private static string VersionLabel(int? version) => version?.ToString(CultureInfo.InvariantCulture) ?? "";

    private sealed class Untrack(Action action) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) action();
        }
    }
}

/// <summary>
/// What a replica exposes for sampling: its router (batchers of production and canary) and its
/// Kafka consumer. Written by the replica actor, read at scrape time on another thread.
/// </summary>
public sealed class ReplicaGauges(string model, string replica = "")
{
    private volatile ReplicaRouter? _router;
    private volatile IConsumerControl? _consumer;

    public string Model { get; } = model;

    /// <summary>The replica's entity id (<c>&lt;model&gt;#&lt;n&gt;</c>).</summary>
    public string Replica { get; } = replica;

    public ReplicaRouter? Router { get => _router; set => _router = value; }

    /// <summary>The running stream's consumer.</summary>
    public IConsumerControl? Consumer { get => _consumer; set => _consumer = value; }
}
