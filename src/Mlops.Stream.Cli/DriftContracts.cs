using System.Text.Json.Serialization;

namespace Mlops.Stream.Cli;

// GET /api/v1/models/{model}/drift as the CLI reads it: per version its latest windows, each a
// record of the model's drift topic (topics/drift.json). Scores are numbers or "NaN" (a feature
// with no finite value), hence their own context that reads named floating-point literals.

internal sealed class DriftStatusDto
{
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("versions")] public IReadOnlyList<VersionDriftDto> Versions { get; init; } = [];
}

internal sealed class VersionDriftDto
{
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("drift_detected")] public bool DriftDetected { get; init; }
    /// <summary>Newest first.</summary>
    [JsonPropertyName("windows")] public IReadOnlyList<DriftWindowDto> Windows { get; init; } = [];
}

internal sealed class DriftWindowDto
{
    [JsonPropertyName("start")] public DateTimeOffset Start { get; init; }
    [JsonPropertyName("end")] public DateTimeOffset End { get; init; }
    [JsonPropertyName("closed_by")] public string? ClosedBy { get; init; }
    [JsonPropertyName("events")] public int Events { get; init; }
    [JsonPropertyName("dataset")] public DatasetDriftDto Dataset { get; init; } = new();
    [JsonPropertyName("features")] public IReadOnlyList<FeatureDriftDto> Features { get; init; } = [];
    /// <summary>Null in records written before feedback labels were joined.</summary>
    [JsonPropertyName("performance")] public PerformanceDto? Performance { get; init; }
    /// <summary>Null when no event of the window had predictions.</summary>
    [JsonPropertyName("prediction_drift")] public PredictionDriftDto? PredictionDrift { get; init; }
}

internal sealed class PerformanceDto
{
    [JsonPropertyName("labelled")] public int Labelled { get; init; }
    [JsonPropertyName("late")] public int Late { get; init; }
    [JsonPropertyName("average")] public string? Average { get; init; }
    [JsonPropertyName("accuracy")] public double? Accuracy { get; init; }
    [JsonPropertyName("precision")] public double? Precision { get; init; }
    [JsonPropertyName("recall")] public double? Recall { get; init; }
    [JsonPropertyName("roc_auc")] public double? RocAuc { get; init; }
}

internal sealed class PredictionDriftDto
{
    [JsonPropertyName("is_baseline")] public bool IsBaseline { get; init; }
    [JsonPropertyName("baseline_end")] public DateTimeOffset BaselineEnd { get; init; }
    [JsonPropertyName("verdict")] public string? Verdict { get; init; }
    [JsonPropertyName("outputs")] public IReadOnlyList<FeatureDriftDto> Outputs { get; init; } = [];
}

internal sealed class DatasetDriftDto
{
    [JsonPropertyName("feature_count")] public int FeatureCount { get; init; }
    [JsonPropertyName("evaluated_count")] public int EvaluatedCount { get; init; }
    [JsonPropertyName("drifted_count")] public int DriftedCount { get; init; }
    [JsonPropertyName("drifted_share")] public double DriftedShare { get; init; }
    [JsonPropertyName("threshold")] public double Threshold { get; init; }
    [JsonPropertyName("verdict")] public string? Verdict { get; init; }
}

internal sealed class FeatureDriftDto
{
    [JsonPropertyName("feature")] public string Feature { get; init; } = "";
    [JsonPropertyName("method")] public string? Method { get; init; }
    [JsonPropertyName("score")] public double Score { get; init; }
    [JsonPropertyName("p_value")] public double? PValue { get; init; }
    [JsonPropertyName("threshold")] public double Threshold { get; init; }
    [JsonPropertyName("verdict")] public string? Verdict { get; init; }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DriftStatusDto))]
[JsonSerializable(typeof(BaselineBody))]
[JsonSerializable(typeof(BaselineDto))]
internal sealed partial class DriftJsonContext : JsonSerializerContext;
