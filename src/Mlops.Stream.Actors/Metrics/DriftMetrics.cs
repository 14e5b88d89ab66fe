using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Dsl;
using Prometheus;

namespace Mlops.Stream.Actors.Metrics;

/// <summary>
/// The drift jobs' metrics, in the node's registry beside <see cref="ServingMetrics"/>. Window
/// results are set when a window's record is acknowledged by the drift topic, so the gauges never
/// show a window the topic does not hold; the consumer lag is sampled at each scrape from the jobs
/// running on this node (only the node that runs a model's job exports its lag and results).
/// </summary>
public sealed class DriftMetrics
{
    private readonly Gauge _score;
    private readonly Gauge _detected;
    private readonly Counter _windows;
    private readonly Counter _events;
    private readonly Counter _badEvents;
    private readonly Counter _restarts;
    private readonly SampledGauge _lag;
    private readonly ConcurrentDictionary<DriftGauges, byte> _jobs = new();

    public DriftMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _score = factory.CreateGauge("mlops_drift_score",
            "Drift statistic of a feature in the latest window of a model version: PSI, KS's D or the distance the method names (NaN when not evaluated).",
            "model", "version", "feature", "method");
        _detected = factory.CreateGauge("mlops_drift_detected",
            "1 when the latest window of a model version drifted as a dataset (the share of drifted features reached the threshold), else 0.",
            "model", "version");
        _windows = factory.CreateCounter("mlops_drift_windows_total",
            "Drift windows evaluated and written to the model's drift topic.", "model", "version");
        _events = factory.CreateCounter("mlops_drift_events_total",
            "Served events the drift job read into windows (events it could not use are in mlops_drift_bad_events_total).", "model");
        _badEvents = factory.CreateCounter("mlops_drift_bad_events_total",
            "Served events the drift job skipped, by kind (unreadable, missing_field, unknown_version, no_reference, shape_mismatch, ...).",
            "model", "kind");
        _restarts = factory.CreateCounter("mlops_drift_stream_restarts_total",
            "Times a drift job's Kafka stream failed and was started again (the log names the cause).", "model");
        _lag = new SampledGauge(factory.CreateGauge("mlops_drift_consumer_lag",
            "Served events not yet committed by the model's drift group (end offset - committed offset, summed over partitions), " +
            "measured by the drift job's consumer; it includes the events of open windows, committed when their window is written.",
            "model"));
        registry.AddBeforeCollectCallback(SampleJobs);
    }

    /// <summary>Metrics nobody exports: for jobs and tests built without a node.</summary>
    public static DriftMetrics Detached() => new(Prometheus.Metrics.NewCustomRegistry());

    public CollectorRegistry Registry { get; }

    /// <summary>The latest window of its version: every feature's score, the dataset verdict, one more window.</summary>
    public void RecordWindow(DriftWindowReport window)
    {
        var version = window.Version.ToString(CultureInfo.InvariantCulture);
        foreach (var feature in window.Features)
        {
            _score.WithLabels(window.Model, version, feature.Feature, MethodLabel(feature.Method)).Set(feature.Score);
        }

        _detected.WithLabels(window.Model, version).Set(window.Dataset.Drifted ? 1 : 0);
        _windows.WithLabels(window.Model, version).Inc();
    }

    public void CountEvent(string model) => _events.WithLabels(model).Inc();

    public void CountBadEvent(string model, string kind) => _badEvents.WithLabels(model, kind).Inc();

    public void CountStreamRestart(string model) => _restarts.WithLabels(model).Inc();

    /// <summary>
    /// Samples the job's consumer at every scrape until <see cref="Untrack"/>. Also creates the
    /// job's counters at 0, so <c>increase()</c> sees their first event.
    /// </summary>
    public void Track(DriftGauges job)
    {
        _events.WithLabels(job.Model);
        _restarts.WithLabels(job.Model);
        _jobs[job] = 0;
    }

    /// <summary>Stops sampling the job (it stopped); its lag series goes at the next scrape.</summary>
    public void Untrack(DriftGauges job) => _jobs.TryRemove(job, out _);

    /// <summary>The method as its snake_case name, the word the drift topic's records use (<see cref="DriftWindowJson"/>).</summary>
    internal static string MethodLabel(DriftMethod method) => JsonNamingPolicy.SnakeCaseLower.ConvertName(method.ToString());

    private void SampleJobs()
    {
        _lag.BeginRound();
        foreach (var job in _jobs.Keys)
        {
            if (job.Consumer is { } consumer && consumer.Metrics.Lag is { Count: > 0 } lag)
            {
                _lag.Set(lag.Values.Sum(), job.Model);
            }
        }

        _lag.EndRound();
    }
}

/// <summary>What a drift job exposes for sampling: its running stream's consumer. Written by the job's actor, read at scrape time.</summary>
public sealed class DriftGauges(string model)
{
    private volatile IConsumerControl? _consumer;

    public string Model { get; } = model;

    public IConsumerControl? Consumer { get => _consumer; set => _consumer = value; }
}
