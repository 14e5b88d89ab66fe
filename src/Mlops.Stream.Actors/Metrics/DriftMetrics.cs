using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Performance;
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
    private readonly Gauge _labelled;
    private readonly Gauge _accuracy;
    private readonly Gauge _precision;
    private readonly Gauge _recall;
    private readonly Gauge _rocAuc;
    private readonly Counter _labels;
    private readonly Counter _unmatchedLabels;
    private readonly Counter _badFeedback;
    private readonly Counter _joinEvictions;
    private readonly Counter _alerts;
    private readonly Gauge _predictionScore;
    private readonly Gauge _predictionDetected;
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
            "Served events and feedback labels not yet committed by the model's drift group (end offset - committed offset, summed over partitions), " +
            "measured by the drift job's consumer; it includes the events and labels of open windows, committed when their window is written.",
            "model"));
        _labelled = factory.CreateGauge("mlops_drift_labelled",
            "Labelled rows (feedback labels joined to served events) counted into the latest window of a model version.", "model", "version");
        Gauge Performance(string name, string what) => factory.CreateGauge($"mlops_drift_{name}",
            $"{what} over the labelled rows of the latest window of a model version that had labels (NaN when undefined).", "model", "version");
        _accuracy = Performance("accuracy", "Accuracy");
        _precision = Performance("precision", "Precision of class 1 (binary models) or macro precision");
        _recall = Performance("recall", "Recall of class 1 (binary models) or macro recall");
        _rocAuc = Performance("roc_auc", "ROC AUC of the served probability of class 1 (binary models)");
        _labels = factory.CreateCounter("mlops_drift_labels_total",
            "Feedback labels joined to their served event and counted into a window.", "model");
        _unmatchedLabels = factory.CreateCounter("mlops_drift_unmatched_labels_total",
            "Feedback labels given up on because no served event with their id was seen in the join window (also in mlops_drift_bad_feedback_total{kind=\"unknown_id\"}).", "model");
        _badFeedback = factory.CreateCounter("mlops_drift_bad_feedback_total",
            "Feedback records not counted, by kind (unreadable, missing_id, bad_label, unknown_id, superseded, window_full).", "model", "kind");
        _alerts = factory.CreateCounter("mlops_drift_alerts_total",
            "Drift alerts (a version's windows starting or stopping to drift) by what became of their webhook call: sent, failed (after every attempt) or dropped (the queue was full).",
            "model", "outcome");
        _joinEvictions = factory.CreateCounter("mlops_drift_join_evictions_total",
            "Served events dropped unlabelled from the feedback join because it held its maximum (Drift:FeedbackJoinEvents); a later label for one is unmatched.", "model");
        _predictionScore = factory.CreateGauge("mlops_drift_prediction_score",
            "Drift of an output in the latest window of a model version against the version's baseline window: PSI of a class probability, Jensen-Shannon distance of the predicted class's shares.",
            "model", "version", "output", "method");
        _predictionDetected = factory.CreateGauge("mlops_drift_prediction_detected",
            "1 when an output drifted in the latest judged window of a model version (against its baseline window), else 0.", "model", "version");
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
        RecordPerformance(window.Model, version, window.Performance);
        if (window.PredictionDrift is { IsBaseline: false } predictions)
        {
            foreach (var output in predictions.Outputs)
            {
                _predictionScore.WithLabels(window.Model, version, output.Feature, MethodLabel(output.Method)).Set(output.Score);
            }

            _predictionDetected.WithLabels(window.Model, version).Set(predictions.Verdict == DriftVerdict.Drifted ? 1 : 0);
        }
    }

    /// <summary>The labelled count always; the figures only from a window that had labels, so a window without any does not blank them.</summary>
    private void RecordPerformance(string model, string version, ClassificationPerformance? performance)
    {
        _labelled.WithLabels(model, version).Set(performance?.Labelled ?? 0);
        if (performance is not { Labelled: > 0 })
        {
            return;
        }

        _accuracy.WithLabels(model, version).Set(performance.Accuracy ?? double.NaN);
        _precision.WithLabels(model, version).Set(performance.Precision ?? double.NaN);
        _recall.WithLabels(model, version).Set(performance.Recall ?? double.NaN);
        _rocAuc.WithLabels(model, version).Set(performance.RocAuc ?? double.NaN);
    }

    public void CountLabel(string model) => _labels.WithLabels(model).Inc();

    public void CountJoinEvictions(string model, int evicted) => _joinEvictions.WithLabels(model).Inc(evicted);

    public void CountAlert(string model, string outcome) => _alerts.WithLabels(model, outcome).Inc();

    /// <summary>A feedback record not counted, by kind; an unknown id is also an unmatched label.</summary>
    public void CountBadFeedback(string model, string kind)
    {
        _badFeedback.WithLabels(model, kind).Inc();
        if (kind == FeedbackFailure.CodeOf(FeedbackFailureReason.UnknownId))
        {
            _unmatchedLabels.WithLabels(model).Inc();
        }
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
        _labels.WithLabels(job.Model);
        _unmatchedLabels.WithLabels(job.Model);
        _joinEvictions.WithLabels(job.Model);
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
