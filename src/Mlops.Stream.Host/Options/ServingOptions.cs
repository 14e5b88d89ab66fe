using Microsoft.Extensions.Options;
using Mlops.Stream.Inference.Onnx;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Inference</c>: how models run and how long callers wait.</summary>
public sealed class ServingOptions
{
    public const string Section = "Inference";

    /// <summary><c>auto</c> (CUDA if present, else CPU), <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>ONNX Runtime intra-op threads per session; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>ONNX Runtime inter-op threads per session; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Kafka requests of one replica inside its batcher at once.</summary>
    public int KafkaInFlight { get; set; } = 256;

    /// <summary>Keep the replaced version loaded after a swap for an instant rollback (costs its memory).</summary>
    public bool KeepPreviousVersion { get; set; } = true;

    /// <summary>
    /// Most memory the node's loaded models may take (e.g. <c>2GiB</c>, <c>512MiB</c>, <c>1.5GB</c>, or bytes); empty: no
    /// budget, every deployed model stays loaded. With a budget, a model is loaded on its first request
    /// and the least recently used idle model is unloaded to make room (see README, "Many models per node").
    /// </summary>
    public string? ModelMemoryBudget { get; set; }

    /// <summary>Most models loaded on the node at once; unset: no limit besides <see cref="ModelMemoryBudget"/>.</summary>
    public int? MaxLoadedModels { get; set; }

    /// <summary>
    /// With a budget: how often a replica whose model is not loaded reads its request topic's backlog,
    /// so records written for a Kafka-only model that was evicted load it again (see README, "Many models per node").
    /// </summary>
    public TimeSpan KafkaBacklogCheck { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Automatic canary rollback (section <c>Inference:CanaryGuard</c>).</summary>
    public CanaryGuardOptions CanaryGuard { get; set; } = new();

    /// <summary>How models scaled with min and max grow and shrink (section <c>Inference:Autoscale</c>).</summary>
    public AutoscaleOptions Autoscale { get; set; } = new();

    internal Mlops.Stream.Inference.Caching.ModelCache ToModelCache() =>
        new(string.IsNullOrWhiteSpace(ModelMemoryBudget) ? null : ByteSize.Parse(ModelMemoryBudget), MaxLoadedModels);

    internal OnnxModelOptions ToOnnxOptions() => new()
    {
        Device = Enum.Parse<ExecutionDevice>(Device, ignoreCase: true),
        IntraOpThreads = IntraOpThreads,
        InterOpThreads = InterOpThreads,
    };
}

/// <summary>Off unless enabled: a canary is withdrawn when, over at least MinRequests, its error rate or p99 exceeds the limits.</summary>
public sealed class CanaryGuardOptions
{
    public bool Enabled { get; set; }
    public double MaxErrorRate { get; set; } = 0.05;
    public TimeSpan MaxP99 { get; set; } = TimeSpan.FromMilliseconds(500);
    public int MinRequests { get; set; } = 200;

    internal Mlops.Stream.Actors.Serving.CanaryGuard? ToGuard() => Enabled ? new(MaxErrorRate, MaxP99, MinRequests) : null;
}

/// <summary>
/// Autoscaling of models scaled with <c>--min/--max</c>: the backlog per replica (the serving group's
/// lag on the request topic plus the batcher queue depths, divided by the replicas) above <see cref="ScaleUpBacklog"/> for
/// <see cref="ScaleUpAfter"/> adds a replica; at or below <see cref="ScaleDownBacklog"/> for
/// <see cref="ScaleDownAfter"/> (the cool-down) removes one. One step at a time, never outside min
/// and max, never above the request topic's partitions. The defaults follow KEDA's Kafka scaler
/// (lag threshold, 5-minute cool-down).
/// </summary>
public sealed class AutoscaleOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);
    public long ScaleUpBacklog { get; set; } = 1000;
    public TimeSpan ScaleUpAfter { get; set; } = TimeSpan.FromSeconds(30);
    public long ScaleDownBacklog { get; set; } = 100;
    public TimeSpan ScaleDownAfter { get; set; } = TimeSpan.FromMinutes(5);

    internal Models.Autoscaling.AutoscalePolicySettings ToSettings() => new(ScaleUpBacklog, ScaleUpAfter, ScaleDownBacklog, ScaleDownAfter);
}

public sealed class ServingOptionsValidator : IValidateOptions<ServingOptions>
{
    public ValidateOptionsResult Validate(string? name, ServingOptions options)
    {
        var failures = new List<string>();
        if (!Enum.TryParse<ExecutionDevice>(options.Device, ignoreCase: true, out _))
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.Device)} must be auto, cpu or cuda (found '{options.Device}').");
        if (options.IntraOpThreads < 0)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.IntraOpThreads)} must be 0 (ONNX Runtime's choice) or more (found {options.IntraOpThreads}).");
        if (options.InterOpThreads < 0)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.InterOpThreads)} must be 0 (ONNX Runtime's choice) or more (found {options.InterOpThreads}).");
        var guard = options.CanaryGuard;
        if (guard.MaxErrorRate is < 0 or > 1)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MaxErrorRate)} must be between 0 and 1 (found {guard.MaxErrorRate}).");
        if (guard.MaxP99 <= TimeSpan.Zero)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MaxP99)} must be positive (found {guard.MaxP99}).");
        if (guard.MinRequests < 1)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MinRequests)} must be at least 1 (found {guard.MinRequests}).");
        var scale = options.Autoscale;
        if (scale.Interval <= TimeSpan.Zero)
            failures.Add($"{ServingOptions.Section}:Autoscale:{nameof(AutoscaleOptions.Interval)} must be positive (found {scale.Interval}).");
        if (scale.ScaleDownBacklog < 0 || scale.ScaleUpBacklog <= scale.ScaleDownBacklog)
            failures.Add($"{ServingOptions.Section}:Autoscale:{nameof(AutoscaleOptions.ScaleUpBacklog)} must be above " +
                         $"{nameof(AutoscaleOptions.ScaleDownBacklog)}, and that at least 0 (found {scale.ScaleUpBacklog} and {scale.ScaleDownBacklog}).");
        if (scale.ScaleUpAfter < TimeSpan.Zero || scale.ScaleDownAfter < TimeSpan.Zero)
            failures.Add($"{ServingOptions.Section}:Autoscale: {nameof(AutoscaleOptions.ScaleUpAfter)} and {nameof(AutoscaleOptions.ScaleDownAfter)} must not be negative.");
        if (!string.IsNullOrWhiteSpace(options.ModelMemoryBudget) && ByteSize.Problem(options.ModelMemoryBudget) is { } budget)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.ModelMemoryBudget)} {budget}.");
        if (options.MaxLoadedModels is < 1)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.MaxLoadedModels)} must be at least 1 when set (found {options.MaxLoadedModels}).");
        if (options.KafkaBacklogCheck <= TimeSpan.Zero)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.KafkaBacklogCheck)} must be positive (found {options.KafkaBacklogCheck}).");
        if (options.KafkaInFlight < 1)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.KafkaInFlight)} must be at least 1 (found {options.KafkaInFlight}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Sizes as operators write them: a number of bytes, or a number with a unit, binary (<c>KiB</c>,
/// <c>MiB</c>, <c>GiB</c>, <c>TiB</c>, and Kubernetes' <c>Ki</c>, <c>Mi</c>, <c>Gi</c>) or decimal (<c>KB</c>, <c>MB</c>, <c>GB</c>, <c>TB</c>),
/// case-insensitive, spaces allowed: <c>2GiB</c>, <c>512 MiB</c>, <c>1.5GB</c>.
/// </summary>
public static class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ];

    public static long Parse(string text) =>
        TryParse(text, out var bytes) ? bytes : throw new FormatException($"'{text}' {Problem(text)}");

    /// <summary>What is wrong with <paramref name="text"/> as a size; null when it is one.</summary>
    public static string? Problem(string text) =>
        TryParse(text, out _) ? null : $"must be a positive size such as 2GiB, 512MiB, 1.5GB or a number of bytes (found '{text}')";

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        var factor = 1L;
        foreach (var (unit, value) in Units)
        {
            if (!trimmed.EndsWith(unit, StringComparison.OrdinalIgnoreCase)) continue;
            trimmed = trimmed[..^unit.Length].TrimEnd();
            factor = value;
            break;
        }
        if (!decimal.TryParse(trimmed, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var number)
            || number <= 0 || number * factor > long.MaxValue)
            return false;
        bytes = (long)(number * factor);
        return bytes > 0;
    }
}
