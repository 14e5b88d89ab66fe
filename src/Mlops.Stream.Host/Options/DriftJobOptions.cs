using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Drift;
using Mlops.Stream.Drift.Feedback;
using Mlops.Stream.Drift.Windows;

namespace Mlops.Stream.Host.Options;

/// <summary>
/// Section <c>Drift</c>: the drift jobs that read every served model's served events, in windows,
/// and write one result per window to its drift topic (issue 11).
/// </summary>
public sealed class DriftJobOptions
{
    public const string Section = "Drift";

    /// <summary>Run the drift jobs inside the cluster (one per served model, on one node). Off: run them standalone, or not at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Served events after which a window closes.</summary>
    public int WindowEvents { get; set; } = WindowOptions.Default.MaxEvents;

    /// <summary>Served time after a window's first event at which it closes, if it has not filled by then.</summary>
    public TimeSpan WindowSpan { get; set; } = WindowOptions.Default.MaxSpan;

    /// <summary>Feature rows a window may hold (events carrying batches count each row): what bounds a window's memory.</summary>
    public int WindowRows { get; set; } = WindowOptions.Default.MaxRows;

    /// <summary>A window drifts as a dataset when this share of its features drifted.</summary>
    public double DatasetDriftShare { get; set; } = DriftOptions.Default.DatasetDriftShare;

    /// <summary>Served events whose predictions the feedback join keeps for their label (the most recent); a label for an older one is unmatched.</summary>
    public int FeedbackJoinEvents { get; set; } = FeedbackJoinOptions.Default.MaxServed;

    /// <summary>Labels read before their served event that may wait for it at once.</summary>
    public int FeedbackWaitingLabels { get; set; } = FeedbackJoinOptions.Default.MaxWaitingLabels;

    /// <summary>How long a label waits for its served event before it is counted as unmatched (kind unknown_id).</summary>
    public TimeSpan FeedbackLabelWait { get; set; } = FeedbackJoinOptions.Default.LabelWait;

    /// <summary>Where the standalone <c>drift</c> verb serves <c>/metrics</c> (a node serves it on its own HTTP address).</summary>
    public string MetricsUrl { get; set; } = "http://127.0.0.1:9464";

    /// <summary>Where a JSON alert is POSTed when a version starts or stops drifting (Slack, PagerDuty, Alertmanager-style receivers); empty: none.</summary>
    public string AlertWebhookUrl { get; set; } = "";

    /// <summary>
    /// Models (comma-separated, or <c>*</c> for all) whose canary the drift job withdraws when its
    /// windows drift while production's do not, or when its labelled accuracy falls below
    /// production's by more than <see cref="CanaryAccuracyMargin"/>. Empty (the default): never.
    /// </summary>
    public string WithdrawCanaryOnDrift { get; set; } = "";

    /// <summary>How far below production's a canary's accuracy may fall before it is withdrawn (with <see cref="WithdrawCanaryOnDrift"/>).</summary>
    public double CanaryAccuracyMargin { get; set; } = 0.05;

    /// <summary>Labelled rows each window needs before the canary's accuracy is compared with production's.</summary>
    public int CanaryMinLabelled { get; set; } = 50;

    /// <summary>How often a drift job looks for a version's new reference sample (a baseline set meanwhile).</summary>
    public TimeSpan RefreshReferenceAfter { get; set; } = DriftJobSettings.Default.RefreshReferenceAfter;

    internal CanaryWithdrawalOptions CanaryWithdrawal => new(
        WithdrawCanaryOnDrift.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
        CanaryAccuracyMargin, CanaryMinLabelled);

    internal Uri? AlertWebhook => string.IsNullOrWhiteSpace(AlertWebhookUrl) ? null : new Uri(AlertWebhookUrl.Trim());

    internal DriftJobSettings ToSettings() => new()
    {
        Windows = new WindowOptions { MaxEvents = WindowEvents, MaxSpan = WindowSpan, MaxRows = WindowRows },
        Statistics = DriftOptions.Default with { DatasetDriftShare = DatasetDriftShare },
        Feedback = new FeedbackJoinOptions { MaxServed = FeedbackJoinEvents, MaxWaitingLabels = FeedbackWaitingLabels, LabelWait = FeedbackLabelWait },
        RefreshReferenceAfter = RefreshReferenceAfter,
    };
}

/// <summary>Checks <see cref="DriftJobOptions"/> at start; every message names the key.</summary>
public sealed class DriftJobOptionsValidator : IValidateOptions<DriftJobOptions>
{
    public ValidateOptionsResult Validate(string? name, DriftJobOptions options)
    {
        var failures = new List<string>();
        if (options.WindowEvents < 1)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.WindowEvents)} must be at least 1 (found {options.WindowEvents}).");
        if (options.WindowSpan <= TimeSpan.Zero)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.WindowSpan)} must be positive (found {options.WindowSpan}).");
        if (options.WindowRows < 1)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.WindowRows)} must be at least 1 (found {options.WindowRows}).");
        if (options.FeedbackJoinEvents < 1)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.FeedbackJoinEvents)} must be at least 1 (found {options.FeedbackJoinEvents}).");
        if (options.FeedbackWaitingLabels < 1)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.FeedbackWaitingLabels)} must be at least 1 (found {options.FeedbackWaitingLabels}).");
        if (options.FeedbackLabelWait <= TimeSpan.Zero)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.FeedbackLabelWait)} must be positive (found {options.FeedbackLabelWait}).");
        if (options.DatasetDriftShare is not (> 0 and <= 1))
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.DatasetDriftShare)} must lie in (0, 1] (found {options.DatasetDriftShare}).");
        if (!Uri.TryCreate(options.MetricsUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.MetricsUrl)} must be an http:// or https:// address (found '{options.MetricsUrl}').");
        if (!string.IsNullOrWhiteSpace(options.AlertWebhookUrl)
            && (!Uri.TryCreate(options.AlertWebhookUrl.Trim(), UriKind.Absolute, out var webhook) || webhook.Scheme is not ("http" or "https")))
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.AlertWebhookUrl)} must be empty or an http:// or https:// address (found '{options.AlertWebhookUrl}').");
        if (options.CanaryAccuracyMargin is not (>= 0 and <= 1))
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.CanaryAccuracyMargin)} must lie in [0, 1] (found {options.CanaryAccuracyMargin}).");
        if (options.CanaryMinLabelled < 1)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.CanaryMinLabelled)} must be at least 1 (found {options.CanaryMinLabelled}).");
        if (options.RefreshReferenceAfter <= TimeSpan.Zero)
            failures.Add($"{DriftJobOptions.Section}:{nameof(DriftJobOptions.RefreshReferenceAfter)} must be positive (found {options.RefreshReferenceAfter}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
